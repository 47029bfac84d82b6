// Record an erasure: a tombstone keyed by the keyed hash of the user id (never the id itself), so that
// every later ingest can skip that user's rows; the first one also records the key's check value, so a
// process with another key is refused instead of missing every tombstone. Idempotent.
MERGE (k:ErasureKey {id: 'key'})
ON CREATE SET k.check = $check
MERGE (e:ErasedUser {hash: $hash})
ON CREATE SET e.erased = datetime()
RETURN e.hash AS hash
