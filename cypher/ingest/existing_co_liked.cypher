// Rows already in the graph, as [a, b, users] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (a:Item)-[r:CO_LIKED]->(b:Item)
RETURN collect([a.id, b.id, r.users]) AS rows
