// Generic catalogues: (:Item)-[:HAS_ATTRIBUTE]->(:Attribute {id: kind + ":" + name, kind, name}).
// $rows: [{item, kind, name}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (a:Attribute {id: row.kind + ":" + row.name})
ON CREATE SET a.kind = row.kind, a.name = row.name
MERGE (i)-[:HAS_ATTRIBUTE]->(a)
