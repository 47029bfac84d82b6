// Neo4j's "recommendations" example query ("users who rated this also rated ..."), as a Neo4j user writes
// it by hand: the alternative that /users/{id}/recommendations/cypher-cf serves, for comparison.
// $interaction: the catalogue's interaction type (RATED for movies).
MATCH (u:User {id: $user})-[r1]->(:Item)<-[r2]-(other:User)
WHERE type(r1) = $interaction AND type(r2) = $interaction
WITH u, other, count(*) AS overlap
MATCH (other)-[r3]->(rec:Item)
WHERE type(r3) = $interaction AND NOT EXISTS { MATCH (u)-[r4]->(rec) WHERE type(r4) = $interaction }
WITH rec, sum(overlap) AS score
ORDER BY score DESC, rec.id ASC
LIMIT $k
RETURN rec.id AS id, rec.title AS title, score
