// Tags (by name) that no item carries any more after an erasure. $names: [name]
UNWIND $names AS name
MATCH (t:Tag {name: name})
WHERE NOT EXISTS { (t)--() }
DELETE t
RETURN count(*) AS deleted
