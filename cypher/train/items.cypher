// The catalogue: every item, rated or not (cold items are scored through their KG neighbours).
MATCH (i:Item)
RETURN i.id AS item
