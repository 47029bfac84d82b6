// One interaction per user and item: (:User)-[:{{interaction}} {rating | event, weight, ts}]->(:Item), the
// type the catalogue schema names (RATED for movies). $rows: [{user, item, rating, event, weight, ts}]
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (i:Item {id: row.item})
MERGE (u)-[r:{{interaction}}]->(i)
SET r.rating = row.rating, r.event = row.event, r.weight = row.weight, r.ts = row.ts
