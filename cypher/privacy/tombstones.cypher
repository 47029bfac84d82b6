// Every erasure tombstone's keyed hash, collected into one list (the ingest filter reads it once per run).
MATCH (e:ErasedUser)
RETURN collect(e.hash) AS hashes
