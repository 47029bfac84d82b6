// Links of one attribute already in the graph, as [item, key, name, order] lists, collected into one list.
MATCH (i:Item)-[r:{{rel}}]->(a:{{label}})
RETURN collect([i.id, a.{{key}}, a.name, r.order]) AS rows
