// Nodes per label (a node with two labels counts under both).
MATCH (n) UNWIND labels(n) AS label
RETURN label, count(*) AS count ORDER BY label
