// The items of one category (the catalogue's `item.category` attribute: {{label}} nodes linked by {{rel}}),
// for the `category=` filter of recommendations and popular items. $value: the node's key.
MATCH (:{{label}} {{{key}}: $value})-[:{{rel}}]-(i:Item)
RETURN i.id AS item
