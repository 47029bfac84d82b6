// The baseline a Neo4j user would write by hand, after Neo4j's "recommendations" example
// ("users who rated what you rated also rated ...": score = number of such paths), over the
// $neighbours users who share the most rated items (the example's kNN step; it also bounds the
// cost), restricted to what was known at each user's cutoff: $cutoffs maps a user id (as a
// string) to the last timestamp of their history, so no rating from an evaluated period is seen,
// the target user's or anyone's. Items the user already rated are removed by the caller (as for
// every model), not here. $interaction: the catalogue's interaction type (RATED for movies).
UNWIND $users AS uid
CALL (uid) {
  MATCH (u:User {id: uid})-[r1]->(:Item)<-[r2]-(other:User)
  WHERE type(r1) = $interaction AND type(r2) = $interaction
    AND r1.ts <= $cutoffs[toString(uid)] AND r2.ts <= $cutoffs[toString(other.id)]
  WITH other, count(*) AS overlap
  ORDER BY overlap DESC, other.id ASC
  LIMIT $neighbours
  MATCH (other)-[r3]->(rec:Item)
  WHERE type(r3) = $interaction AND r3.ts <= $cutoffs[toString(other.id)]
  RETURN rec.id AS item, sum(overlap) AS score
}
RETURN uid AS user, collect(item) AS items, collect(score) AS scores
