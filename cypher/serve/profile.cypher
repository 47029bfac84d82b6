// A user's revisions and, unless they are still $cached ([user revision, graph revision] of a cached answer,
// or null), their current interactions ([item, rating, event, weight, ts] of the catalogue's interaction type,
// rendered in as {{interaction}}: a typed expansion reads only that relationship group of a dense user), own
// tags ([tag, item, ts]) and what their network did ([person, item, rating, event, weight] of the people they
// follow or befriend; used only as counts, never shown): one round trip per request, cached or not. The
// user's revision goes up with every write to the user through the API, the graph's with every ingest,
// refresh included. No row for an unknown user.
MATCH (u:User {id: $user})
OPTIONAL MATCH (g:GraphState {id: 'graph'})
WITH u, coalesce(u.revision, 0) AS user_revision, coalesce(g.revision, 0) AS graph_revision
WITH u, user_revision, graph_revision, coalesce([user_revision, graph_revision] = $cached, false) AS unchanged
RETURN user_revision, graph_revision, unchanged,
       CASE WHEN unchanged THEN [] ELSE
         [(u)-[r:{{interaction}}]->(i:Item) | [i.id, r.rating, r.event, r.weight, r.ts]] END AS interactions,
       CASE WHEN unchanged THEN [] ELSE [(u)-[t:TAGGED]->(i:Item) | [t.tag, i.id, t.ts]] END AS tagged,
       CASE WHEN unchanged THEN [] ELSE
         [(u)-[:FOLLOWS]->(v:User)-[r:{{interaction}}]->(i:Item) | [v.id, i.id, r.rating, r.event, r.weight]]
         + [(u)-[:FRIEND]-(v:User)-[r:{{interaction}}]->(i:Item) | [v.id, i.id, r.rating, r.event, r.weight]]
       END AS network
