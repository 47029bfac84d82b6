// A user's revisions and, unless they are still $cached ([user revision, graph revision] of a cached answer,
// or null), their current interactions ([item, rating, event, weight, ts] of the catalogue's type
// $interaction), own tags ([tag, item, ts]) and what their network did ([person, item, rating, event, weight]
// of the people they follow or befriend; used only as counts, never shown): one round trip per request,
// cached or not. The user's revision goes up with every write to the user through the API, the graph's with
// every ingest, refresh included. No row for an unknown user.
MATCH (u:User {id: $user})
OPTIONAL MATCH (g:GraphState {id: 'graph'})
WITH u, coalesce(u.revision, 0) AS user_revision, coalesce(g.revision, 0) AS graph_revision
WITH u, user_revision, graph_revision, coalesce([user_revision, graph_revision] = $cached, false) AS unchanged
RETURN user_revision, graph_revision, unchanged,
       CASE WHEN unchanged THEN [] ELSE
         [(u)-[r]->(i:Item) WHERE type(r) = $interaction | [i.id, r.rating, r.event, r.weight, r.ts]] END AS interactions,
       CASE WHEN unchanged THEN [] ELSE [(u)-[t:TAGGED]->(i:Item) | [t.tag, i.id, t.ts]] END AS tagged,
       CASE WHEN unchanged THEN [] ELSE
         [(u)-[:FOLLOWS]->(v:User)-[r]->(i:Item) WHERE type(r) = $interaction | [v.id, i.id, r.rating, r.event, r.weight]]
         + [(u)-[:FRIEND]-(v:User)-[r]->(i:Item) WHERE type(r) = $interaction | [v.id, i.id, r.rating, r.event, r.weight]]
       END AS network
