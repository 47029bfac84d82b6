// Candidate explanation paths (at most 3 hops) from one user to each of several items, in one round trip.
// $user: User.id; $items: [Item.id]; $min_rating: the rating from which an item counts as liked;
// $per_item: candidates kept per item (Python ranks them again, with contributions and diversity).
// Each candidate: the literal path, its kind of link (via), the degree of the shared node (specificity),
// and the rating/time of the user's interaction that starts it.
MATCH (u:User {id: $user})
UNWIND $items AS item_id
MATCH (item:Item {id: item_id})
OPTIONAL CALL (u, item) {
    // a node shared by an item the user liked and the recommended item (person, genre, tag, entity, ...)
    MATCH (item)-[b:DIRECTED|ACTED_IN|IN_GENRE|FROM_COUNTRY|HAS_KEYWORD|HAS_TAG|MENTIONS|PRODUCED_BY|HAS_ATTRIBUTE]-(x)
    WHERE NOT x:Item AND NOT x:User
    WITH u, item, b, x, COUNT { (x)--(:Item) } AS degree
    MATCH (x)-[a:DIRECTED|ACTED_IN|IN_GENRE|FROM_COUNTRY|HAS_KEYWORD|HAS_TAG|MENTIONS|PRODUCED_BY|HAS_ATTRIBUTE]-(liked:Item)<-[r:RATED]-(u)
    WHERE r.rating >= $min_rating AND liked <> item
    RETURN 'shared' AS via, [u, liked, x, item] AS nodes, [r, a, b] AS rels, degree,
           r.rating AS rating, r.ts AS ts, liked.id AS liked_id
  UNION ALL
    // "people who liked X also liked Y": a co-rating relationship kept in the graph (no other user named)
    MATCH (u)-[r:RATED]->(liked:Item)-[c:CO_LIKED]-(item)
    WHERE r.rating >= $min_rating
    RETURN 'co_liked' AS via, [u, liked, item] AS nodes, [r, c] AS rels, c.users AS degree,
           r.rating AS rating, r.ts AS ts, liked.id AS liked_id
  UNION ALL
    // the user's own tag on another item, also attached to the recommended item
    MATCH (u)-[t:TAGGED]->(tagged:Item)-[h:HAS_TAG]->(tag:Tag)<-[h2:HAS_TAG]-(item)
    WHERE tag.name = t.tag AND tagged <> item
    RETURN 'your_tag' AS via, [u, tagged, tag, item] AS nodes, [t, h, h2] AS rels,
           COUNT { (tag)<-[:HAS_TAG]-() } AS degree, null AS rating, t.ts AS ts, tagged.id AS liked_id
}
WITH item, via, nodes, rels, degree, rating, ts, liked_id
// a provisional order (specific shared nodes, high and recent ratings first) so the cut keeps the best ones
ORDER BY item.id, CASE via WHEN 'shared' THEN 1.0 / log(2.0 + degree) ELSE 0.5 END * coalesce(rating, 4.5) DESC,
         ts DESC
// OPTIONAL CALL keeps items without any path (one row of nulls), so every item's title comes back
WITH item, collect(CASE WHEN via IS NOT NULL THEN {via: via, nodes: [n IN nodes | {labels: labels(n), id: n.id, name: coalesce(n.name, n.title),
                    title: n.title}],
                    rels: [r IN rels | {type: type(r), start: elementId(startNode(r)), end: elementId(endNode(r)),
                                        properties: properties(r)}],
                    node_ids: [n IN nodes | elementId(n)],
                    degree: degree, rating: rating, ts: ts, liked_id: liked_id} END)[..$per_item] AS candidates
RETURN item.id AS item, item.title AS title, candidates
