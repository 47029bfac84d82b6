// (:Person {id, name}); id is the slug of the name. $rows: [{id, name}]
UNWIND $rows AS row
MERGE (p:Person {id: row.id})
SET p.name = row.name
