// A user's current interactions ([item, rating, event, weight, ts] of the catalogue's type $interaction), own
// tags ([tag, item, ts]) and what their network did ([person, item, rating, event, weight] of the people they
// follow or befriend; used only as counts, never shown), read at request time. No row for an unknown user.
MATCH (u:User {id: $user})
RETURN [(u)-[r]->(i:Item) WHERE type(r) = $interaction | [i.id, r.rating, r.event, r.weight, r.ts]] AS interactions,
       [(u)-[t:TAGGED]->(i:Item) | [t.tag, i.id, t.ts]] AS tagged,
       [(u)-[:FOLLOWS]->(v:User)-[r]->(i:Item) WHERE type(r) = $interaction | [v.id, i.id, r.rating, r.event, r.weight]]
       + [(u)-[:FRIEND]-(v:User)-[r]->(i:Item) WHERE type(r) = $interaction | [v.id, i.id, r.rating, r.event, r.weight]]
         AS network
