// A user's current ratings and own tags, read at request time. No row for an unknown user.
MATCH (u:User {id: $user})
RETURN [(u)-[r:RATED]->(i:Item) | [i.id, r.rating, r.ts]] AS ratings,
       COLLECT { MATCH (u)-[t:TAGGED]->() RETURN DISTINCT t.tag } AS tags
