// Rows already in the graph, as [item, entity, count] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (i:Item)-[r:MENTIONS]->(e:Entity)
RETURN collect([i.id, e.id, r.count]) AS rows
