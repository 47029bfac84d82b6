// Neo4j's "recommendations" example query ("users who rated this also rated ..."), as a Neo4j user writes
// it by hand: the alternative that /users/{id}/recommendations/cypher-cf serves, for comparison.
MATCH (u:User {id: $user})-[:RATED]->(:Item)<-[:RATED]-(other:User)
WITH u, other, count(*) AS overlap
MATCH (other)-[:RATED]->(rec:Item)
WHERE NOT EXISTS { (u)-[:RATED]->(rec) }
WITH rec, sum(overlap) AS score
ORDER BY score DESC, rec.id ASC
LIMIT $k
RETURN rec.id AS id, rec.title AS title, score
