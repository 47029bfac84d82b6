// Items nearest to one item in the active embedding (the `item_embedding` vector index), each with the
// literal paths the two share: a common neighbour (person, genre, tag, entity ...) through relationship types
// the catalogue declares ($attribute_types).
MATCH (i:Item {id: $item})
WHERE i.embedding IS NOT NULL
CALL db.index.vector.queryNodes('item_embedding', $k + 1, i.embedding) YIELD node, score
WITH i, node, score WHERE node <> i
ORDER BY score DESC LIMIT $k
CALL (i, node) {
    MATCH (i)-[a]-(x)-[b]-(node)
    WHERE type(a) IN $attribute_types AND type(b) IN $attribute_types AND NOT x:Item AND NOT x:User
    WITH i, node, a, b, x ORDER BY COUNT { (x)--(:Item) } ASC LIMIT $paths
    WITH [i, x, node] AS nodes, [a, b] AS rels
    RETURN collect({nodes: [n IN nodes | {labels: labels(n), id: n.id, name: coalesce(n.title, n.name)}],
                    rels: [r IN rels | {type: type(r), properties: properties(r),
                                        start: [k IN range(0, 2) WHERE nodes[k] = startNode(r)][0],
                                        end: [k IN range(0, 2) WHERE nodes[k] = endNode(r)][0]}]}) AS shared
}
RETURN node.id AS id, node.title AS title, score, shared
