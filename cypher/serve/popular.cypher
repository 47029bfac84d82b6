// Most-liked items (ratings >= $min_rating), optionally within one genre.
MATCH (i:Item)<-[r:RATED]-()
WHERE r.rating >= $min_rating AND ($genre IS NULL OR EXISTS { (i)-[:IN_GENRE]->(:Genre {name: $genre}) })
WITH i, count(r) AS likes
ORDER BY likes DESC, i.id ASC
LIMIT $k
RETURN i.id AS id, i.title AS title, likes
