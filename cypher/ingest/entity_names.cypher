// The names entity patterns are built from: [kind, key, name] for every Person, Country, Genre,
// Keyword and Studio (key: the Person id, else the name), collected into one list.
CALL () { MATCH (n:Person) RETURN "Person" AS kind, n.id AS key, n.name AS name
  UNION ALL MATCH (n:Country) RETURN "Country" AS kind, n.name AS key, n.name AS name
  UNION ALL MATCH (n:Genre) RETURN "Genre" AS kind, n.name AS key, n.name AS name
  UNION ALL MATCH (n:Keyword) RETURN "Keyword" AS kind, n.name AS key, n.name AS name
  UNION ALL MATCH (n:Studio) RETURN "Studio" AS kind, n.name AS key, n.name AS name }
RETURN collect([kind, key, name]) AS rows
