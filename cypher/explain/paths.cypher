// Candidate explanation paths (at most 3 hops) from one user to each of several items, in one round trip,
// by walking the graph. Serving finds candidates in memory (explain/shared.py) and fetches only the chosen
// paths (fetch_paths.cypher); this walk covers what the in-memory index cannot know: items and liked items
// added after the model was trained, and callers without a model.
// $user: User.id; $items: [Item.id]; $interaction: the catalogue's interaction type; $attribute_types: its
// item-attribute relationship types;
// $per_kind: candidates kept per item and kind of link (Python ranks them again, with contributions and
// diversity);
// $liked: the user's liked item ids, best-rated and newest first (the caller has the profile already);
// $min_tag_users, $junk_entities: what never explains (explain/trust.py; your own tags always may);
// $tags: the user's own tags, [{name: the Tag node's folded name, raw: as written on TAGGED}]; $broad: a shared node with more links than this (a genre, a country) is
// matched from the user's side, against the first $scan liked items.
// Each candidate: the literal path, its kind of link (via), the degree of the shared node (specificity),
// and the rating/time of the user's interaction that starts it.
MATCH (u:User {id: $user})
UNWIND $items AS item_id
MATCH (item:Item {id: item_id})
OPTIONAL CALL (u, item) {
    // a node shared by an item the user liked and the recommended item (person, genre, tag, entity, ...)
    WITH u, item, $liked AS liked_ids
    WHERE size(liked_ids) > 0
    MATCH (item)-[b]-(x)
    WHERE type(b) IN $attribute_types AND NOT x:Item AND NOT x:User
      // junk never explains (explain/trust.py): a date or number found in text, a tag fewer than
      // $min_tag_users distinct people applied (the most on one item, or distinct TAGGED users)
      AND NOT (x:Entity AND x.label IN $junk_entities)
      AND (NOT x:Tag OR $min_tag_users <= 1
           OR EXISTS { MATCH (:Item)-[h:HAS_TAG]->(x) WHERE h.count >= $min_tag_users }
           OR COUNT { MATCH (tu:User)-[tt:TAGGED]->(:Item)-[:HAS_TAG]->(x) WHERE toLower(tt.tag) = x.name
                      RETURN DISTINCT tu } >= $min_tag_users)
    WITH u, item, b, x, liked_ids, COUNT { (x)--() } AS degree
    CALL (item, x, degree, liked_ids) {
        // a specific node has few items: walk them and keep the ones the user liked
        WITH item, x WHERE degree <= $broad
        MATCH (x)-[a]-(liked:Item)
        WHERE type(a) IN $attribute_types AND liked.id IN liked_ids AND liked <> item
        RETURN liked, a
      UNION ALL
        // a broad node has thousands: try the user's best liked items instead and stop at two
        WITH item, x WHERE degree > $broad
        UNWIND liked_ids[..$scan] AS liked_id
        MATCH (liked:Item {id: liked_id})-[a]-(x)
        WHERE type(a) IN $attribute_types AND liked <> item
        WITH liked, a LIMIT 2
        RETURN liked, a
    }
    MATCH (u)-[r]->(liked) WHERE type(r) = $interaction
    RETURN 'shared' AS via, [u, liked, x, item] AS nodes, [r, a, b] AS rels, degree,
           r.rating AS rating, r.ts AS ts, liked.id AS liked_id
  UNION ALL
    // "people who liked X also liked Y": a co-rating relationship kept in the graph (no other user named)
    MATCH (item)-[c:CO_LIKED]-(liked:Item)
    WHERE liked.id IN $liked
    MATCH (u)-[r]->(liked) WHERE type(r) = $interaction
    RETURN 'co_liked' AS via, [u, liked, item] AS nodes, [r, c] AS rels, c.users AS degree,
           r.rating AS rating, r.ts AS ts, liked.id AS liked_id
  UNION ALL
    // the user's own tag on another item, also attached to the recommended item
    MATCH (item)-[h2:HAS_TAG]->(tag:Tag)
    WHERE tag.name IN [f IN $tags | f.name]
    UNWIND [f IN $tags WHERE f.name = tag.name | f.raw] AS raw
    MATCH (u)-[t:TAGGED {tag: raw}]->(tagged:Item)-[h:HAS_TAG]->(tag)
    WHERE tagged <> item
    RETURN 'your_tag' AS via, [u, tagged, tag, item] AS nodes, [t, h, h2] AS rels,
           COUNT { (tag)<-[:HAS_TAG]-() } AS degree, null AS rating, t.ts AS ts, tagged.id AS liked_id
}
WITH item, via, nodes, rels, degree, rating, ts, liked_id,
     CASE WHEN via IS NULL THEN null ELSE via + ':' + type(last(rels)) END AS kind
// a provisional order inside each kind of link (specific shared nodes, high and recent ratings first), and
// at most $per_kind candidates of each kind, so a flood of one kind (many rare tags) cannot crowd out another
ORDER BY item.id, kind, CASE via WHEN 'shared' THEN 1.0 / log(2.0 + degree) ELSE 1.0 END * coalesce(rating, 1.0) DESC,
         ts DESC
WITH item, kind, collect(CASE WHEN via IS NOT NULL THEN {via: via, nodes: nodes, rels: rels, degree: degree,
                        rating: rating, ts: ts, liked_id: liked_id} END)[..$per_kind] AS top
// OPTIONAL CALL keeps items without any path (one row of nulls), so every item's title comes back
WITH item, [c IN collect(top) WHERE size(c) > 0 | c] AS groups
WITH item, reduce(all = [], g IN groups | all + g) AS top
RETURN item.id AS item, item.title AS title,
       [c IN top | {via: c.via, degree: c.degree, rating: c.rating, ts: c.ts, liked_id: c.liked_id,
                    nodes: [n IN c.nodes | {labels: labels(n), id: n.id, name: coalesce(n.title, n.name)}],
                    rels: [r IN c.rels | {type: type(r), properties: properties(r),
                                          start: [i IN range(0, size(c.nodes) - 1) WHERE c.nodes[i] = startNode(r)][0],
                                          end: [i IN range(0, size(c.nodes) - 1) WHERE c.nodes[i] = endNode(r)][0]}]}]
         AS candidates
