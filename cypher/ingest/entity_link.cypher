// An entity that is an existing node: that node gets the :Entity label (and an entity id), so
// MENTIONS reaches the director himself rather than a duplicate. $rows: [{kind, key, id, label}]
// kind is the node label, key its id (Person) or name (the others).
UNWIND $rows AS row
CALL (row) {
  MATCH (n:Person {id: row.key}) WHERE row.kind = "Person" RETURN n
  UNION
  MATCH (n:Country {name: row.key}) WHERE row.kind = "Country" RETURN n
  UNION
  MATCH (n:Genre {name: row.key}) WHERE row.kind = "Genre" RETURN n
  UNION
  MATCH (n:Keyword {name: row.key}) WHERE row.kind = "Keyword" RETURN n
  UNION
  MATCH (n:Studio {name: row.key}) WHERE row.kind = "Studio" RETURN n
}
SET n:Entity, n.id = row.id, n.label = row.label
