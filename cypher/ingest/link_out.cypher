// (:Item)-[:{{rel}} {order}]->(:{{label}} {{{key}}, name}): one attribute of the catalogue schema.
// $rows: [{item, key, name, order}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (a:{{label}} {{{key}}: row.key})
SET a.name = row.name
MERGE (i)-[r:{{rel}}]->(a)
SET r.order = row.order
