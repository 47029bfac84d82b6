// The check value of the key the graph's tombstones were made with (no row before the first erasure).
MATCH (k:ErasureKey {id: 'key'})
RETURN k.check AS check
