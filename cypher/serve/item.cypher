// One item with its properties and attribute links (relationship types the catalogue declares,
// $attribute_types), for GET /items/{id}. No row when the item does not exist.
MATCH (i:Item {id: $item})
RETURN i.id AS id, i.title AS title, labels(i) AS labels,
       [k IN keys(i) WHERE NOT k IN ['id', 'title', 'embedding', 'embedding_version', 'staged_embedding', 'staged_version'] | [k, i[k]]] AS properties,
       [(i)-[r]-(a) WHERE type(r) IN $attribute_types | [type(r), a.name, coalesce(a.id, a.name), r.order]] AS links,
       COUNT { (i)<-[r]-(:User) WHERE type(r) = $interaction } AS interactions
