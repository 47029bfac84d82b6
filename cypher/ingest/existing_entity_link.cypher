// Rows already in the graph, as [kind, key, id, label] lists (the step's field order), collected into one
// list. kind: the node's first label among the catalogue's attribute labels ($labels); key: its id for
// $id_labels, else its name.
MATCH (n:Entity) WHERE any(l IN labels(n) WHERE l IN $labels)
WITH n, [l IN $labels WHERE l IN labels(n)][0] AS kind
RETURN collect([kind, CASE WHEN kind IN $id_labels THEN n.id ELSE n.name END, n.id, n.label]) AS rows
