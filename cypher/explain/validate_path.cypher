// Is every relationship of an explanation path in the database? An independent MATCH, used by tests and
// bench/explanations.py to check that explanations are literal. $rels: one map per relationship with the
// type, direction and the (label, key, value) of both end nodes as the path reports them.
UNWIND $rels AS rel
OPTIONAL MATCH (a:$(rel.start_label))-[r:$(rel.type)]->(b:$(rel.end_label))
WHERE a[rel.start_key] = rel.start_value AND b[rel.end_key] = rel.end_value
RETURN rel.index AS index, count(r) > 0 AS found
ORDER BY index
