// Every erasure tombstone's keyed hash, collected into one list (the ingest filter reads it once per run), and
// the check value of the key they were made with.
OPTIONAL MATCH (e:ErasedUser)
WITH collect(e.hash) AS hashes
OPTIONAL MATCH (k:ErasureKey {id: 'key'})
RETURN hashes, k.check AS check
