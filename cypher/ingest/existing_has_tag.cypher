// Rows already in the graph, as [item, name, count] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (i:Item)-[r:HAS_TAG]->(t:Tag)
RETURN collect([i.id, t.name, r.count]) AS rows
