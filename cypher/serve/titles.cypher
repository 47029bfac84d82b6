// Titles of several items (recommendations without explanations).
UNWIND $items AS id
MATCH (i:Item {id: id})
RETURN i.id AS item, i.title AS title
