// Links of one attribute already in the graph, as [item, key, name, order] lists, collected into one list.
MATCH (a:{{label}})-[r:{{rel}}]->(i:Item)
RETURN collect([i.id, a.{{key}}, a.name, r.order]) AS rows
