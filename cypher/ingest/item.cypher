// (:Item) nodes of a generic catalogue (kgrec ingest csv). $rows: [{id, title, text}]
UNWIND $rows AS row
MERGE (i:Item {id: row.id})
SET i.title = row.title, i.text = row.text
