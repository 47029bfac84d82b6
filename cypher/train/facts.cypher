// Item-attribute facts of the knowledge graph: every relationship of a type the catalogue schema declares
// ($attribute_types: (:Item)-[:MADE_BY]->(:Brand), (:Item)-[:HAS_TAG]->(:Tag), ...), in either direction.
// Interactions, CO_LIKED (derived from interactions, test ones included) and social edges are not
// attributes. An attribute's key is its first label found in $attribute_labels, then ':' and its id for
// $id_labels or its name for the others, e.g. "Brand:Acme", "Musician:jane-doe".
MATCH (i:Item)-[r]-(a)
WHERE type(r) IN $attribute_types AND NOT a:Item AND NOT a:User
WITH i, r, a, [l IN $attribute_labels WHERE l IN labels(a)] AS known
WHERE size(known) > 0
WITH i, r, known[0] AS label, CASE WHEN known[0] IN $id_labels THEN a.id ELSE a.name END AS key
WHERE key IS NOT NULL
RETURN i.id AS item, type(r) AS rel, label + ':' + toString(key) AS attr
