// Who applied each tag, read once per model load (explain/trust.py Taggers): per Tag, the most of
// HAS_TAG.count on one item (distinct users' applications aggregated at ingest, HetRec's weights
// included; user null), and every distinct (tag as written, user) of TAGGED (folded in Python).
MATCH (:Item)-[h:HAS_TAG]->(t:Tag)
RETURN t.name AS tag, null AS user, max(coalesce(h.count, 0)) AS count
UNION ALL
MATCH (u:User)-[t:TAGGED]->(:Item)
RETURN DISTINCT t.tag AS tag, u.id AS user, null AS count
