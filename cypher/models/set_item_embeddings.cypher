// The switch: one model version's staged item embeddings (stage_item_embeddings) become Item.embedding,
// copied inside the server, in the transaction that activates the version.
MATCH (i:Item)
WHERE i.staged_version = $version
SET i.embedding = i.staged_embedding, i.embedding_version = $version
REMOVE i.staged_embedding, i.staged_version
