// Erase a user: the node, their ratings and tags. No row when the user does not exist.
MATCH (u:User {id: $user})
WITH u, COUNT { (u)--() } AS relationships
DETACH DELETE u
RETURN relationships
