// Every rating: the interactions models train on (the split is made in Python, per user by time).
MATCH (u:User)-[r:RATED]->(i:Item)
WHERE r.rating IS NOT NULL
RETURN u.id AS user, i.id AS item, r.rating AS rating, coalesce(r.ts, 0) AS ts
