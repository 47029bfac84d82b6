// The texts entity extraction reads for some items: overview, tagline or generic text, the names of the
// tags still applied to them, and the tags as users wrote them. $items: [id]
UNWIND $items AS id
MATCH (i:Item {id: id})
RETURN i.id AS item, [x IN [i.overview, i.tagline, i.text] WHERE x IS NOT NULL] AS texts,
       [(i)-[:HAS_TAG]->(t:Tag) | t.name] AS tags,
       [(:User)-[g:TAGGED]->(i) | g.tag] AS written
