// What a cached recommendation depends on besides the model version: the user's revision (bumped by every
// write to the user through the API) and the graph's (bumped by every ingest, refresh included). One cheap
// read per request; no row for an unknown user.
MATCH (u:User {id: $user})
OPTIONAL MATCH (g:GraphState {id: 'graph'})
RETURN coalesce(u.revision, 0) AS user_revision, coalesce(g.revision, 0) AS graph_revision
