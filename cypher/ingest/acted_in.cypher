// (:Person)-[:ACTED_IN {order}]->(:Item); order is the billing position. $rows: [{person, item, order}]
UNWIND $rows AS row
MATCH (p:Person {id: row.person})
MATCH (i:Item {id: row.item})
MERGE (p)-[r:ACTED_IN]->(i)
SET r.order = row.order
