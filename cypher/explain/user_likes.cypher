// What explanations start from: the user's interactions ([item, rating, event, weight, ts]; the signal model
// decides which are likes) and own tags. $interaction: the catalogue's interaction type.
MATCH (u:User {id: $user})
RETURN [(u)-[r]->(i:Item) WHERE type(r) = $interaction | [i.id, r.rating, r.event, r.weight, r.ts]] AS interactions,
       COLLECT { MATCH (u)-[t:TAGGED]->() RETURN DISTINCT t.tag } AS tags
