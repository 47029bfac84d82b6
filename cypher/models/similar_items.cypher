// The items closest to one item by the active embeddings (cosine, through the vector index).
MATCH (i:Item {id: $id})
WHERE i.embedding IS NOT NULL
CALL db.index.vector.queryNodes($index, $k + 1, i.embedding) YIELD node, score
WITH node, score WHERE node.id <> $id
RETURN node.id AS item, score
ORDER BY score DESC
LIMIT $k
