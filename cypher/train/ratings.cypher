// Every interaction of the catalogue's type ($interaction): the rows models train on, as the signal model
// reads them (kgrec.catalogue.signals turns rating | event + weight into a value; the split is made in
// Python, per user by time).
MATCH (u:User)-[r]->(i:Item)
WHERE type(r) = $interaction
RETURN u.id AS user, i.id AS item, r.rating AS rating, r.event AS event, r.weight AS weight, coalesce(r.ts, 0) AS ts
