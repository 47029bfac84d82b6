// PUT /items/{id}: the item's links of one attribute kind ({{rel}} to {{label}} nodes) that the new body no
// longer names ($keep: the keys it names) are removed before the new ones are written.
MATCH (i:Item {id: $item})-[r:{{rel}}]-(a:{{label}})
WHERE NOT a.{{key}} IN $keep
DELETE r
