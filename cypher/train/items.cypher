// One page of the catalogue (every item, rated or not: cold items are scored through their KG neighbours):
// the $limit items after item id $after, with their item-attribute facts, as lists in one record.
// Facts: every relationship of a type the catalogue schema declares ($attribute_types:
// (:Item)-[:MADE_BY]->(:Brand), (:Item)-[:HAS_TAG]->(:Tag), ...), in either direction. Interactions,
// CO_LIKED (derived from interactions, test ones included) and social edges are not attributes. An
// attribute's key is its first label found in $attribute_labels, then ':' and its id for $id_labels or its
// name for the others, e.g. "Brand:Acme", "Musician:jane-doe". `last`: the next page's $after.
MATCH (i:Item) WHERE i.id > $after
WITH i ORDER BY i.id LIMIT $limit
WITH collect(i) AS page
WHERE size(page) > 0
CALL (page) {
  UNWIND page AS i
  MATCH (i)-[r]-(a)
  WHERE type(r) IN $attribute_types AND NOT a:Item AND NOT a:User
  WITH i, r, a, [l IN $attribute_labels WHERE l IN labels(a)] AS known
  WHERE size(known) > 0
  WITH i, r, known[0] AS label, CASE WHEN known[0] IN $id_labels THEN a.id ELSE a.name END AS key
  WHERE key IS NOT NULL
  RETURN collect([i.id, type(r), label + ':' + toString(key)]) AS facts
}
RETURN page[-1].id AS last, [i IN page | i.id] AS items, facts
