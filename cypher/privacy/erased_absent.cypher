// One row when $hash is an erased user's and no User with $user exists now (a re-registered user exists):
// an API write for that id must not recreate the user by accident.
MATCH (e:ErasedUser {hash: $hash})
WHERE NOT EXISTS { MATCH (:User {id: $user}) }
RETURN e.erased AS erased
