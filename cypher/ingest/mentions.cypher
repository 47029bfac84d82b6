// (:Item)-[:MENTIONS {count}]->(:Entity). $rows: [{item, entity, count}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MATCH (e:Entity {id: row.entity})
MERGE (i)-[r:MENTIONS]->(e)
SET r.count = row.count
