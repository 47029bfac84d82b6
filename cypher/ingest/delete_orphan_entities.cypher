// Entities found only in text (no attribute node of the catalogue, $labels) that nothing mentions any more.
MATCH (e:Entity) WHERE NOT any(l IN labels(e) WHERE l IN $labels)
  AND NOT EXISTS { ()-[:MENTIONS]->(e) }
DETACH DELETE e
RETURN count(*) AS deleted
