// What explanations start from: the user's liked items (best-rated, newest first) and own tags.
MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[r:RATED]->(i:Item) WHERE r.rating >= $min_rating
WITH u, i, r ORDER BY r.rating DESC, r.ts DESC
WITH u, collect(i.id) AS liked
RETURN liked, COLLECT { MATCH (u)-[t:TAGGED]->() RETURN DISTINCT t.tag } AS tags
