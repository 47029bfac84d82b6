// The paths between a user and a film, through films the user liked (rating >= 4).
// Such a film shares a person, genre, tag, keyword or entity with the target, or is CO_LIKED with it.
// In Browser first set:  :param userId => 1   and   :param movieId => 79132
MATCH (u:User {id: $userId}), (target:Movie {id: $movieId})
MATCH path = (u)-[r:RATED]->(seen:Movie)-[:DIRECTED|ACTED_IN|IN_GENRE|HAS_KEYWORD|HAS_TAG|MENTIONS]-(via)
             -[:DIRECTED|ACTED_IN|IN_GENRE|HAS_KEYWORD|HAS_TAG|MENTIONS]-(target)
WHERE r.rating >= 4 AND seen <> target
RETURN path LIMIT 50
UNION
MATCH (u:User {id: $userId})-[r:RATED]->(seen:Movie)-[:CO_LIKED]-(target:Movie {id: $movieId})
WHERE r.rating >= 4
MATCH path = (u)-[r]->(seen)-[:CO_LIKED]-(target)
RETURN path LIMIT 50
