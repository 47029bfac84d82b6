// Remove stale CO_LIKED pairs. $rows: [{a, b}] (a < b)
UNWIND $rows AS row
MATCH (:Item {id: row.a})-[r:CO_LIKED]->(:Item {id: row.b})
DELETE r
