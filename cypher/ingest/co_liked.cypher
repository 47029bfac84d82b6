// (:Item)-[:CO_LIKED {users}]->(:Item), lower id -> higher id. $rows: [{a, b, users}]
UNWIND $rows AS row
MATCH (a:Item {id: row.a})
MATCH (b:Item {id: row.b})
MERGE (a)-[r:CO_LIKED]->(b)
SET r.users = row.users
