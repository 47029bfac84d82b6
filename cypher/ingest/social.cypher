// User-user edges: (:User)-[:FOLLOWS]->(:User) as given, or (:User)-[:FRIEND]->(:User) stored once, lower
// id -> higher id (query it undirected). $rows: [{user, other, kind: 'follows' | 'friend'}]
UNWIND $rows AS row
MERGE (u:User {id: row.user})
MERGE (o:User {id: row.other})
WITH row, u, o
CALL (row, u, o) {
    WITH row WHERE row.kind = 'follows'
    MERGE (u)-[:FOLLOWS]->(o)
  UNION
    WITH row WHERE row.kind = 'friend'
    MERGE (u)-[:FRIEND]->(o)
}
