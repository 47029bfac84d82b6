// Where every recorded model version's files are (a version may live outside the models folder).
MATCH (v:ModelVersion)
RETURN v.id AS id, v.key AS key, v.path AS path
