// Item-attribute facts of the knowledge graph, in either direction ((:Person)-[:DIRECTED]->(:Movie),
// (:Movie)-[:IN_GENRE]->(:Genre), ...). Users, other items (CO_LIKED is derived from ratings,
// test ones included) and model bookkeeping are not attributes. An attribute's key is its first
// label found in $attribute_labels, then ':' and its id for $id_labels (Person, Entity, Attribute)
// or its name for the others, e.g. "Genre:Comedy", "Person:david-fincher".
MATCH (i:Item)-[r]-(a)
WHERE NOT a:Item AND NOT a:User
WITH i, r, a, [l IN $attribute_labels WHERE l IN labels(a)] AS known
WHERE size(known) > 0
WITH i, r, known[0] AS label, CASE WHEN known[0] IN $id_labels THEN a.id ELSE a.name END AS key
WHERE key IS NOT NULL
RETURN i.id AS item, type(r) AS rel, label + ':' + toString(key) AS attr
