// The graph's side of an audit: the User node (and whether the operator re-registered it), its
// relationships, the tombstone, and whether the graph revision moved on since the erasure (serving
// caches are keyed by it).
OPTIONAL MATCH (u:User {id: $user})
OPTIONAL MATCH (e:ErasedUser {hash: $hash})
OPTIONAL MATCH (g:GraphState {id: 'graph'})
RETURN u IS NOT NULL AS user_node, u.reregistered IS NOT NULL AS reregistered,
       CASE WHEN u IS NULL THEN 0 ELSE COUNT { (u)--() } END AS relationships,
       e IS NOT NULL AS tombstone, toString(e.erased) AS erased,
       e IS NOT NULL AND g IS NOT NULL AND g.changed >= e.erased AS revision_after_erasure
