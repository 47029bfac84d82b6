// Who tagged what, with which tag, when: (:User)-[:TAGGED {tag, ts}]->(:Item). $rows: [{user, item, tag, ts}]
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (i:Item {id: row.item})
MERGE (u)-[t:TAGGED {tag: row.tag}]->(i)
SET t.ts = row.ts
