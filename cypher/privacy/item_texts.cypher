// The texts entity extraction reads for some items: their text properties ($fields: the catalogue's text
// fields and `text`), the names of the tags still applied to them by at least $min_tag_users people (what
// ingest reads for entities: ingest/entities.py extraction_texts), and the tags as users wrote them.
// $items: [id]
UNWIND $items AS id
MATCH (i:Item {id: id})
RETURN i.id AS item, [f IN $fields WHERE i[f] IS NOT NULL | i[f]] AS texts,
       [(i)-[h:HAS_TAG]->(t:Tag) WHERE coalesce(h.count, 0) >= $min_tag_users | t.name] AS tags,
       [(:User)-[g:TAGGED]->(i) | g.tag] AS written
