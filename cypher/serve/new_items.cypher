// Items the serving model has not seen (added after it was trained: PUT /items, an ingest), with their
// attribute facts as training keys them ("Label:key", cypher/train/facts.cypher), so serving can score them
// from their attributes before any retraining. $known: the model's item ids (read once per graph revision).
MATCH (i:Item) WHERE NOT i.id IN $known
RETURN i.id AS item,
       [(i)-[r]-(a) WHERE type(r) IN $attribute_types AND any(l IN labels(a) WHERE l IN $attribute_labels) |
        [type(r), [l IN $attribute_labels WHERE l IN labels(a)][0] + ':' +
                  toString(CASE WHEN [l IN $attribute_labels WHERE l IN labels(a)][0] IN $id_labels THEN a.id
                           ELSE a.name END)]] AS facts
