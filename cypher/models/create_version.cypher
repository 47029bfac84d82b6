// Record a trained model version (inactive until activated).
MERGE (v:ModelVersion {id: $id})
ON CREATE SET v.created = datetime($created), v.active = false
SET v.metrics = $metrics, v.path = $path
RETURN v.id AS id
