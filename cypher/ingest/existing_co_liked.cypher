// CO_LIKED pairs already in the graph, as [a, b, users] lists (the step's field order), one page of $limit
// items after item id $after per read (graph/paging.py: ~items x KGREC_COLIKE_TOP pairs are never one record).
// `last`: the page's last item id.
MATCH (a:Item) WHERE a.id > $after
WITH a ORDER BY a.id LIMIT $limit
WITH collect(a) AS page
WHERE size(page) > 0
CALL (page) {
  UNWIND page AS a
  MATCH (a)-[r:CO_LIKED]->(b:Item)
  RETURN collect([a.id, b.id, r.users]) AS rows
}
RETURN page[-1].id AS last, rows
