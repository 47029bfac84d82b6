// Rows already in the graph, as [user, item, rating, event, weight, ts] lists (the step's field order), one
// page of $limit users after user id $after per read (graph/paging.py): 2M interactions are never one
// record. `last`: the page's last user id.
MATCH (u:User) WHERE u.id > $after
WITH u ORDER BY u.id LIMIT $limit
WITH collect(u) AS page
WHERE size(page) > 0
CALL (page) {
  UNWIND page AS u
  MATCH (u)-[r:{{interaction}}]->(i:Item)
  RETURN collect([u.id, i.id, r.rating, r.event, r.weight, r.ts]) AS rows
}
RETURN page[-1].id AS last, rows
