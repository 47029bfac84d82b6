// Does the graph hold any item yet (one row if so)?
MATCH (i:Item) RETURN i.id AS id LIMIT 1
