// Whether $hash is an erased user's and no User with $user exists now (a re-registered user exists): an API
// write for that id must not recreate the user by accident. With the check value of the tombstones' key.
OPTIONAL MATCH (k:ErasureKey {id: 'key'})
OPTIONAL MATCH (e:ErasedUser {hash: $hash})
RETURN k.check AS check, e IS NOT NULL AND NOT EXISTS { MATCH (:User {id: $user}) } AS erased
