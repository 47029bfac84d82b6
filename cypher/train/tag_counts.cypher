// Each HAS_TAG fact's count: the applications of every source (users' TAGGED, HetRec's weights, ...).
MATCH (i:Item)-[h:HAS_TAG]->(t:Tag)
RETURN i.id AS item, t.name AS tag, coalesce(h.count, 1) AS count
