// A film's people, genres, countries, studios and the entities its text mentions.
// In Browser first set:  :param movieId => 79132
MATCH path = (m:Movie {id: $movieId})-[:DIRECTED|ACTED_IN|IN_GENRE|FROM_COUNTRY|PRODUCED_BY|MENTIONS]-(n)
RETURN path
