// A user's neighbourhood: the 25 films they rated highest, with their genres and directors.
// In Browser first set:  :param userId => 1
MATCH (u:User {id: $userId})-[r:RATED]->(m:Movie)
WITH u, r, m ORDER BY r.rating DESC, r.ts DESC LIMIT 25
OPTIONAL MATCH (m)-[g:IN_GENRE]->(genre:Genre)
OPTIONAL MATCH (d:Person)-[dr:DIRECTED]->(m)
RETURN u, r, m, g, genre, d, dr
