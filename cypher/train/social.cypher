// One page of social edges as [user, other] pairs, meaning "user sees what other likes", for the $limit users
// after user id $after: FOLLOWS as given, FRIEND both ways (it is stored once, so each end lists the other).
// `last`: the next page's $after.
MATCH (a:User) WHERE a.id > $after
WITH a ORDER BY a.id LIMIT $limit
WITH collect(a) AS page
WHERE size(page) > 0
CALL (page) {
  UNWIND page AS a
  CALL (a) {
    MATCH (a)-[:FOLLOWS]->(b:User) RETURN b
    UNION ALL
    MATCH (a)-[:FRIEND]-(b:User) RETURN b
  }
  RETURN collect([a.id, b.id]) AS rows
}
RETURN page[-1].id AS last, rows
