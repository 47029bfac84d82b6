// Rows already in the graph, as [id, name, label] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records. $labels: the
// catalogue's attribute labels (an entity that is such a node is a linked one, not this step's).
MATCH (e:Entity) WHERE NOT any(l IN labels(e) WHERE l IN $labels)
RETURN collect([e.id, e.name, e.label]) AS rows
