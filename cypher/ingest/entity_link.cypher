// An entity that is an existing node of the catalogue ({{label}}, keyed by {{key}}): that node gets the
// :Entity label (and an entity id), so MENTIONS reaches the director himself rather than a duplicate.
// $rows: [{kind, key, id, label}]
UNWIND $rows AS row
MATCH (n:{{label}} {{{key}}: row.key})
SET n:Entity, n.id = row.id, n.label = row.label
