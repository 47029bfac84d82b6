// (:Item)-[:PRODUCED_BY]->(:Studio {name}). $rows: [{item, name}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (s:Studio {name: row.name})
MERGE (i)-[:PRODUCED_BY]->(s)
