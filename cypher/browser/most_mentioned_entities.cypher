// The entities most often mentioned in film texts, and what else each one is (Person, Country, ...).
MATCH (e:Entity)<-[r:MENTIONS]-(:Item)
RETURN e.name AS name, e.label AS label, [l IN labels(e) WHERE l <> "Entity"] AS also,
       count(r) AS films, sum(r.count) AS mentions
ORDER BY films DESC, name LIMIT 25
