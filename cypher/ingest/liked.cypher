// Every interaction as [user, item, rating, event, weight] (the input of CO_LIKED: kgrec.catalogue.signals
// decides which are likes), collected into one list. $interaction: the catalogue's interaction type.
MATCH (u:User)-[r]->(i:Item) WHERE type(r) = $interaction
RETURN collect([u.id, i.id, r.rating, r.event, r.weight]) AS rows
