// Rows already in the graph, as [item, name] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (i:Item)-[:PRODUCED_BY]->(s:Studio)
RETURN collect([i.id, s.name]) AS rows
