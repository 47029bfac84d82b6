// Most-liked items: positives by the catalogue's signal model (a rating >= $positive, or an event whose
// weight/count reaches $min_weight[event]; "" stands for a weight-only row), optionally only among $items
// (a category's). $interaction: the catalogue's interaction type.
MATCH (i:Item)<-[r]-(:User)
WHERE type(r) = $interaction AND ($items IS NULL OR i.id IN $items)
  AND CASE WHEN r.rating IS NOT NULL THEN r.rating >= $positive
           ELSE coalesce(r.weight, 1.0) >= $min_weight[coalesce(r.event, '')] END
WITH i, count(r) AS likes
ORDER BY likes DESC, i.id ASC
LIMIT $k
RETURN i.id AS id, i.title AS title, likes
