// What erasing a user would delete: how many interactions (relationships to items) the user has.
// No row when the user does not exist.
MATCH (u:User {id: $user})
RETURN u.id AS id, COUNT { (u)--() } AS relationships, COUNT { (u)-->(:Item) } AS interactions
