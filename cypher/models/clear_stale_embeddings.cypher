// Items the new version has no embedding for lose the old one (it belongs to another version).
MATCH (i:Item)
WHERE i.embedding IS NOT NULL AND i.embedding_version <> $version
REMOVE i.embedding, i.embedding_version
