// (:{{label}} {{{key}}, name})-[:{{rel}} {order}]->(:Item): one attribute of the catalogue schema (a person
// who directed the item). $rows: [{item, key, name, order}]
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (a:{{label}} {{{key}}: row.key})
SET a.name = row.name
MERGE (a)-[r:{{rel}}]->(i)
SET r.order = row.order
