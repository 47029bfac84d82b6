// The aggregate: (:Item)-[:HAS_TAG {count}]->(:Tag {name}). $rows: [{item, name, count}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (t:Tag {name: row.name})
MERGE (i)-[r:HAS_TAG]->(t)
SET r.count = row.count
