// The most connected people: who directed or acted in the most films of the catalogue.
MATCH (p:Person)
WITH p, COUNT { (p)-[:DIRECTED]->() } AS directed, COUNT { (p)-[:ACTED_IN]->() } AS acted
RETURN p.name AS name, directed, acted, directed + acted AS films
ORDER BY films DESC, name LIMIT 25
