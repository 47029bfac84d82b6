// A short list of users to try the web page with: of the first 200 users by id, those with the most
// interactions (a cheap look at a few nodes, whatever the size of the graph).
MATCH (u:User)
WITH u ORDER BY u.id LIMIT 200
WITH u, COUNT { (u)-->(:Item) } AS interactions
WHERE interactions > 0
WITH u, interactions ORDER BY interactions DESC, u.id LIMIT $n
RETURN u.id AS id, interactions
ORDER BY id
