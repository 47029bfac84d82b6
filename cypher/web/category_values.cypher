// The values of the catalogue's category (e.g. genres) with how many items have each, most common first,
// for the web page's filter. $label and $relationship name the category's node label and relationship.
MATCH (c:$($label))-[:$($relationship)]-(:Item)
RETURN c.name AS name, count(*) AS items
ORDER BY items DESC, name
LIMIT $n
