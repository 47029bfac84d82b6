// A user's top-rated films as a table (rating, then most recent first).
// In Browser first set:  :param userId => 1
MATCH (:User {id: $userId})-[r:RATED]->(m:Movie)
RETURN m.id AS id, m.title AS title, m.year AS year, r.rating AS rating,
       datetime({epochSeconds: r.ts}) AS rated_at
ORDER BY rating DESC, r.ts DESC LIMIT 25
