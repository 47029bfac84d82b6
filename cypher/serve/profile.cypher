// A user's current ratings, read at request time (one row of nulls for a user without ratings; none
// for an unknown user).
MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[r:RATED]->(i:Item)
RETURN i.id AS item, r.rating AS rating, r.ts AS ts
