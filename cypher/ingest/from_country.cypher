// (:Item)-[:FROM_COUNTRY]->(:Country {name}). $rows: [{item, name}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (c:Country {name: row.name})
MERGE (i)-[:FROM_COUNTRY]->(c)
