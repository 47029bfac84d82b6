// What an erasure must recompute: the user's tag applications (item, tag as written). No row for an
// unknown user.
MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[t:TAGGED]->(i:Item)
RETURN u.id AS user, collect(CASE WHEN t IS NULL THEN null ELSE [i.id, t.tag] END) AS tagged
