// Wait (up to 5 minutes) until every index, the new vector index included, is online.
CALL db.awaitIndexes(300)
