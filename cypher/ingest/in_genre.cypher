// (:Item)-[:IN_GENRE]->(:Genre {name}). $rows: [{item, name}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (g:Genre {name: row.name})
MERGE (i)-[:IN_GENRE]->(g)
