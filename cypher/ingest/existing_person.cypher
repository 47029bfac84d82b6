// Rows already in the graph, as [id, name] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (p:Person)
RETURN collect([p.id, p.name]) AS rows
