// Rows already in the graph, as [item, name] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (i:Item)-[:IN_GENRE]->(g:Genre)
RETURN collect([i.id, g.name]) AS rows
