// One page of interactions of the catalogue's type ($interaction): those of the $limit users after user id
// $after (keyset paging: each page is a short read, the client never holds the whole result), as
// [user, item, rating, event, weight, ts] lists in one record (decoded ~4x faster than as many records).
// `last`: the page's last user id, the next page's $after; no row once past the last user. The signal model
// (kgrec.catalogue.signals) turns rating | event + weight into a value; the split is made in Python.
MATCH (u:User) WHERE u.id > $after
WITH u ORDER BY u.id LIMIT $limit
WITH collect(u) AS page
WHERE size(page) > 0
CALL (page) {
  UNWIND page AS u
  MATCH (u)-[r]->(i:Item)
  WHERE type(r) = $interaction
  RETURN collect([u.id, i.id, r.rating, r.event, r.weight, coalesce(r.ts, 0)]) AS rows
}
RETURN page[-1].id AS last, rows
