// An interaction posted through the API, written at once as the catalogue's one relationship per user and
// item ({{interaction}}; the service has combined it with what was there, kgrec.catalogue.signals.combine);
// a new user id creates the user. The user's revision goes up, so cached recommendations of the user are not
// served again. Returns no row when the item does not exist (nothing is written then).
MATCH (i:Item {id: $item})
MERGE (u:User {id: $user})
MERGE (u)-[r:{{interaction}}]->(i)
SET r.rating = $rating, r.event = $event, r.weight = $weight, r.ts = $ts, r.source = 'api',
    u.revision = coalesce(u.revision, 0) + 1
RETURN u.id AS user, i.id AS item, r.rating AS rating, r.event AS event, r.weight AS weight, r.ts AS ts
