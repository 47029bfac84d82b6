// Rows already in the graph, as [item, kind, name] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (i:Item)-[:HAS_ATTRIBUTE]->(a:Attribute)
RETURN collect([i.id, a.kind, a.name]) AS rows
