// Make $id the only active version, in one transaction; returns nothing when $id does not exist.
MATCH (target:ModelVersion {id: $id})
MATCH (v:ModelVersion)
SET v.active = (v = target)
RETURN target.id AS id, count(v) AS versions
