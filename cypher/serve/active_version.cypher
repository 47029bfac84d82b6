// The active model version (exactly one has active = true).
MATCH (v:ModelVersion {active: true})
RETURN v.id AS id, v.key AS key, v.path AS path
ORDER BY v.created DESC
LIMIT 1
