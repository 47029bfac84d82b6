// Record an erasure: a tombstone keyed by the keyed hash of the user id (never the id itself), so that
// every later ingest can skip that user's rows. Idempotent.
MERGE (e:ErasedUser {hash: $hash})
ON CREATE SET e.erased = datetime()
RETURN e.hash AS hash
