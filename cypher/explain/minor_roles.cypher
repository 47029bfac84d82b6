// Minor roles, read once per model load (explain/shared.py): every (item, attribute key) linked through an
// ordered attribute at a position after its salient cut (an actor billed 12th).
// $ordered: [{rel, salient}]; $attribute_labels / $id_labels: as cypher/train/facts.cypher builds the keys.
UNWIND $ordered AS o
MATCH (i:Item)-[r:$(o.rel)]-(a)
WHERE r.order > o.salient AND NOT a:Item AND NOT a:User
WITH i, a, [l IN $attribute_labels WHERE l IN labels(a)] AS known
WHERE size(known) > 0
WITH i, known[0] AS label, CASE WHEN known[0] IN $id_labels THEN a.id ELSE a.name END AS key
WHERE key IS NOT NULL
RETURN i.id AS item, label + ':' + toString(key) AS attr
