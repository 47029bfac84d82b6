// MENTIONS facts an item's tags may have produced (entities are read from tags enough people wrote): the
// mentioned node's attribute key (as train/items.cypher builds it) beside each of the item's Tag names that
// contains the node's name. With evaluation such a fact counts only while one of those tags does.
MATCH (i:Item)-[:MENTIONS]->(a)
WHERE a.name IS NOT NULL AND NOT a:Item AND NOT a:User
WITH i, a, [l IN $attribute_labels WHERE l IN labels(a)] AS known
WHERE size(known) > 0
WITH i, a, known[0] AS label, CASE WHEN known[0] IN $id_labels THEN a.id ELSE a.name END AS key
WHERE key IS NOT NULL
MATCH (i)-[:HAS_TAG]->(t:Tag)
WHERE t.name CONTAINS toLower(a.name)
RETURN i.id AS item, label + ':' + toString(key) AS attr, collect(t.name) AS tags
