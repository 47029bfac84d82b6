// The operator re-registers an erased user id: a new, empty User node the API may write to again. Feeds keep
// skipping that id's rows (the tombstone stays). No row when the id was never erased.
MATCH (e:ErasedUser {hash: $hash})
MERGE (u:User {id: $user})
SET u.reregistered = datetime()
RETURN u.id AS user
