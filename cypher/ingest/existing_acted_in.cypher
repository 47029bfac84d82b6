// Rows already in the graph, as [person, item, order] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (p:Person)-[r:ACTED_IN]->(i:Item)
RETURN collect([p.id, i.id, r.order]) AS rows
