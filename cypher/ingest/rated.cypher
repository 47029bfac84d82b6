// (:User)-[:RATED {rating, weight, ts}]->(:Item). $rows: [{user, item, rating, weight, ts}]
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (i:Item {id: row.item})
MERGE (u)-[r:RATED]->(i)
SET r.rating = row.rating, r.weight = row.weight, r.ts = row.ts
