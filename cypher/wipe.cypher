// Delete every node and relationship (constraints and indexes stay). Used by tests and `kgrec graph reset`.
MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
