// Entities found only in text (not existing Person/Country/... nodes) that nothing mentions any more.
MATCH (e:Entity) WHERE NOT (e:Person OR e:Country OR e:Genre OR e:Keyword OR e:Studio)
  AND NOT EXISTS { ()-[:MENTIONS]->(e) }
DETACH DELETE e
RETURN count(*) AS deleted
