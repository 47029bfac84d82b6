// Take the erased user's applications out of the per-item tag counts (HAS_TAG.count); a count that reaches
// zero removes the HAS_TAG (orphan_tags.cypher then removes Tags nothing uses). Returns the pairs removed.
// $rows: [{item, name, n}]
UNWIND $rows AS row
MATCH (:Item {id: row.item})-[r:HAS_TAG]->(t:Tag {name: row.name})
SET r.count = r.count - row.n
WITH row, r WHERE r.count <= 0
DELETE r
RETURN row.item AS item, row.name AS name
