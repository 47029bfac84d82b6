// Every model version, newest first.
MATCH (v:ModelVersion)
RETURN v.id AS id, v.active AS active, toString(v.created) AS created, v.key AS key, v.path AS path
ORDER BY v.created DESC
