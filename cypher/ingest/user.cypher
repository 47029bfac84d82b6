// (:User {id}) nodes. $rows: [{id}]
UNWIND $rows AS row
MERGE (:User {id: row.id})
