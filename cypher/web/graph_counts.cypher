// Nodes per label and relationships per type from the database's count store (no scan), for the web
// page's status. A node with two labels counts under both.
CALL db.stats.retrieve('GRAPH COUNTS') YIELD data
UNWIND [n IN data.nodes WHERE n.label IS NOT NULL AND n.count > 0 | {kind: 'node', name: n.label, count: n.count}]
     + [r IN data.relationships WHERE r.relationshipType IS NOT NULL AND r.startLabel IS NULL
          AND r.endLabel IS NULL AND r.count > 0 | {kind: 'relationship', name: r.relationshipType, count: r.count}]
     AS row
RETURN row.kind AS kind, row.name AS name, row.count AS count
ORDER BY kind, name
