// (:Item)-[:HAS_KEYWORD]->(:Keyword {name}). $rows: [{item, name}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (k:Keyword {name: row.name})
MERGE (i)-[:HAS_KEYWORD]->(k)
