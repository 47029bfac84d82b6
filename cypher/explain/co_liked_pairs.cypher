// Every CO_LIKED pair with its support, read once when the serving process loads a model version
// (explain/shared.py keeps them in memory to choose which co-liked paths to fetch).
MATCH (a:Item)-[c:CO_LIKED]->(b:Item)
RETURN a.id AS a, b.id AS b, c.users AS users
