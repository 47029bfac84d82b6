// Staged embeddings of another version (a publish that died before its switch) are dropped.
MATCH (i:Item)
WHERE i.staged_version IS NOT NULL AND i.staged_version <> $version
REMOVE i.staged_embedding, i.staged_version
