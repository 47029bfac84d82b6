// Write one model version's item embeddings (UNWIND batches of {id, embedding}).
UNWIND $rows AS row
MATCH (i:Item {id: row.id})
SET i.embedding = row.embedding, i.embedding_version = $version
