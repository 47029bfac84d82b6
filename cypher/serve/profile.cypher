// A user's current ratings and own tags (tag, item, ts), read at request time. No row for an unknown user.
MATCH (u:User {id: $user})
RETURN [(u)-[r:RATED]->(i:Item) | [i.id, r.rating, r.ts]] AS ratings,
       [(u)-[t:TAGGED]->(i:Item) | [t.tag, i.id, t.ts]] AS tagged
