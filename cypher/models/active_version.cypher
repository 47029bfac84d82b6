// The active model version (at most one).
MATCH (v:ModelVersion {active: true})
RETURN v.id AS id, v.key AS key, v.path AS path, v.metrics AS metrics, toString(v.created) AS created
ORDER BY v.created DESC
LIMIT 1
