// Erase a user: the node, their ratings and tags. The graph's revision goes up, so no serving process
// answers from a document cached for that user id (a user created later with the same id starts afresh).
// No row when the user does not exist.
MATCH (u:User {id: $user})
WITH u, COUNT { (u)--() } AS relationships
DETACH DELETE u
WITH relationships
MERGE (g:GraphState {id: 'graph'})
SET g.revision = coalesce(g.revision, 0) + 1, g.changed = datetime()
RETURN relationships
