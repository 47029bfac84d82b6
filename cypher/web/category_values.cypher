// The values of the catalogue's category (e.g. genres) with how many items have each, most common first,
// for the web page's filter. $label and $relationship name the category's node label and relationship
// (a degree count per node: no relationship is read).
MATCH (c:$($label))
WITH c.name AS name, COUNT { (c)-[:$($relationship)]-() } AS items
WHERE items > 0
RETURN name, items
ORDER BY items DESC, name
LIMIT $n
