// Everything the graph holds on one user, read generically: the node's properties and every relationship
// with its type, direction, properties and the other node's labels and key. No row for an unknown user.
MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[r]-(o)
WITH u, r, o ORDER BY type(r), coalesce(o.id, o.name, o.hash)
RETURN properties(u) AS properties,
       collect(CASE WHEN r IS NULL THEN null ELSE {
         type: type(r), direction: CASE WHEN startNode(r) = u THEN 'out' ELSE 'in' END,
         properties: properties(r),
         other: {labels: labels(o), key: CASE WHEN o.id IS NOT NULL THEN 'id' ELSE 'name' END,
                 value: coalesce(o.id, o.name), name: coalesce(o.title, o.name)}} END) AS relationships
