// A user's current interactions ([item, rating, event, weight, ts] of the catalogue's type $interaction) and
// own tags ([tag, item, ts]), read at request time. No row for an unknown user.
MATCH (u:User {id: $user})
RETURN [(u)-[r]->(i:Item) WHERE type(r) = $interaction | [i.id, r.rating, r.event, r.weight, r.ts]] AS interactions,
       [(u)-[t:TAGGED]->(i:Item) | [t.tag, i.id, t.ts]] AS tagged
