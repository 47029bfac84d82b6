// Every interaction as [user, item, rating, event, weight] (the input of CO_LIKED: kgrec.catalogue.signals
// decides which are likes), one page of $limit users after user id $after per read (graph/paging.py).
// $interaction: the catalogue's interaction type.
MATCH (u:User) WHERE u.id > $after
WITH u ORDER BY u.id LIMIT $limit
WITH collect(u) AS page
WHERE size(page) > 0
CALL (page) {
  UNWIND page AS u
  MATCH (u)-[r]->(i:Item) WHERE type(r) = $interaction
  RETURN collect([u.id, i.id, r.rating, r.event, r.weight]) AS rows
}
RETURN page[-1].id AS last, rows
