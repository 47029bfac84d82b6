// Entities found in text that match no existing node. $rows: [{id, name, label}]
UNWIND $rows AS row
MERGE (e:Entity {id: row.id})
SET e.name = row.name, e.label = row.label
