// The most used tags: applications summed over films, and on how many films.
MATCH (t:Tag)<-[r:HAS_TAG]-(:Item)
RETURN t.name AS tag, sum(r.count) AS applications, count(r) AS films
ORDER BY applications DESC, tag LIMIT 25
