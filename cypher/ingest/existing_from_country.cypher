// Rows already in the graph, as [item, name] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (i:Item)-[:FROM_COUNTRY]->(c:Country)
RETURN collect([i.id, c.name]) AS rows
