// [user, item] pairs with a rating at or above $threshold (the input of CO_LIKED), collected into one list.
MATCH (u:User)-[r:RATED]->(i:Item) WHERE r.rating >= $threshold
RETURN collect([u.id, i.id]) AS rows
