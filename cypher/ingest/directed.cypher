// (:Person)-[:DIRECTED]->(:Item). $rows: [{person, item}]
UNWIND $rows AS row
MATCH (p:Person {id: row.person})
MATCH (i:Item {id: row.item})
MERGE (p)-[:DIRECTED]->(i)
