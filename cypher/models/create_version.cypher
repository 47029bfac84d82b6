// Record a trained model version (inactive until activated). $key is relative to the model store (KGREC_MODEL_STORE);
// the absolute path older versions recorded goes, so no reader depends on the trainer's mount point.
MERGE (v:ModelVersion {id: $id})
ON CREATE SET v.created = datetime($created), v.active = false
SET v.metrics = $metrics, v.key = $key
REMOVE v.path
RETURN v.id AS id
