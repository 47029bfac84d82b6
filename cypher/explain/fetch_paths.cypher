// The literal paths of candidate explanations chosen in memory (explain/shared.py), in one round trip.
// $user: User.id; $items: [Item.id], each returned with its title whether or not a path is found;
// $specs: [{item, via, liked, label, key, value, liked_rel, item_rel, tag}], one per path to fetch:
//   'shared'   (u)-[:<$interaction>]->(liked)-[a:<liked_rel>]-(x:<label> {<key>: value})-[b:<item_rel>]-(item)
//   'co_liked' (u)-[:<$interaction>]->(liked)-[:CO_LIKED]-(item)
// ($interaction: the catalogue's interaction type; the relationship types of a spec are the schema's, and
// {{attribute_rels}} every type a spec may name: a typed expansion skips a popular item's many ratings)
//   'your_tag' (u)-[:TAGGED {tag: tag}]->(liked)-[:HAS_TAG]->(:Tag {name: value})<-[:HAS_TAG]-(item)
//              (tag as the user wrote it, value the Tag node's folded name)
// A spec the graph no longer holds gives no row, so nothing is shown that the database did not return.
MATCH (u:User {id: $user})
UNWIND $items AS item_id
MATCH (item:Item {id: item_id})
OPTIONAL CALL (u, item) {
    UNWIND [s IN $specs WHERE s.item = item.id] AS s
    CALL (u, item, s) {
        WITH s WHERE s.via = 'shared'
        // from the liked item's index entry to the shared node first (in a subquery: the planner would start
        // from the item and walk every attribute node's items), through attribute relationship types only (a
        // dynamic $(type) is filtered after expanding every relationship: a popular item's hundreds of ratings)
        MATCH (liked:Item {id: s.liked})
        CALL (liked, s) {
            MATCH (liked)-[a:{{attribute_rels}}]-(x)
            WHERE type(a) = s.liked_rel AND s.label IN labels(x) AND toString(x[s.key]) = s.value
            RETURN a, x
            LIMIT 1
        }
        MATCH (u)-[r]->(liked) WHERE type(r) = $interaction
        MATCH (x)-[b:{{attribute_rels}}]-(item)
        WHERE type(b) = s.item_rel
        RETURN [u, liked, x, item] AS nodes, [r, a, b] AS rels, COUNT { (x)--() } AS degree, r AS first
        LIMIT 1
      UNION ALL
        WITH s WHERE s.via = 'co_liked'
        MATCH (u)-[r]->(liked:Item {id: s.liked})-[c:CO_LIKED]-(item) WHERE type(r) = $interaction
        RETURN [u, liked, item] AS nodes, [r, c] AS rels, c.users AS degree, r AS first
        LIMIT 1
      UNION ALL
        WITH s WHERE s.via = 'your_tag'
        MATCH (u)-[t:TAGGED {tag: s.tag}]->(liked:Item {id: s.liked})-[h:HAS_TAG]->(tag:Tag {name: s.value})
        MATCH (tag)<-[h2:HAS_TAG]-(item)
        RETURN [u, liked, tag, item] AS nodes, [t, h, h2] AS rels, COUNT { (tag)<-[:HAS_TAG]-() } AS degree,
               t AS first
        LIMIT 1
    }
    RETURN s.via AS via, nodes, rels, degree, first.rating AS rating, first.ts AS ts, s.liked AS liked_id
}
WITH item, collect(CASE WHEN via IS NOT NULL THEN {via: via, nodes: nodes, rels: rels, degree: degree,
                        rating: rating, ts: ts, liked_id: liked_id} END) AS found
RETURN item.id AS item, item.title AS title,
       [c IN found | {via: c.via, degree: c.degree, rating: c.rating, ts: c.ts, liked_id: c.liked_id,
                      nodes: [n IN c.nodes | {labels: labels(n), id: n.id, name: coalesce(n.title, n.name)}],
                      rels: [r IN c.rels | {type: type(r), properties: properties(r),
                                            start: [i IN range(0, size(c.nodes) - 1) WHERE c.nodes[i] = startNode(r)][0],
                                            end: [i IN range(0, size(c.nodes) - 1) WHERE c.nodes[i] = endNode(r)][0]}]}]
         AS candidates
