// One item with its attributes, for GET /items/{id}. No row when the item does not exist.
MATCH (i:Item {id: $item})
RETURN i.id AS id, i.title AS title, i.year AS year, i.imdb_id AS imdb_id, i.tmdb_id AS tmdb_id,
       [(i)-[:IN_GENRE]->(g) | g.name] AS genres,
       [(p)-[:DIRECTED]->(i) | p.name] AS directors,
       [(p)-[a:ACTED_IN]->(i) | {name: p.name, order: a.order}] AS actors,
       [(i)-[:FROM_COUNTRY]->(c) | c.name] AS countries,
       [(i)-[:PRODUCED_BY]->(s) | s.name] AS studios,
       COUNT { (i)<-[:RATED]-() } AS ratings
