// The names entity patterns are built from: [kind, key, name] for every node of the catalogue's attribute
// labels ($labels; kind = its first such label, key = its id for $id_labels, else its name), in one list.
MATCH (n) WHERE any(l IN labels(n) WHERE l IN $labels)
WITH n, [l IN $labels WHERE l IN labels(n)][0] AS kind
RETURN collect([kind, CASE WHEN kind IN $id_labels THEN n.id ELSE n.name END, n.name]) AS rows
