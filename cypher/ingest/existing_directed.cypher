// Rows already in the graph, as [person, item] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (p:Person)-[:DIRECTED]->(i:Item)
RETURN collect([p.id, i.id]) AS rows
