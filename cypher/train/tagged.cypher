// Every tag a user applied (TAGGED keeps who, what and when, the tag as written): with evaluation, a HAS_TAG
// fact only counts as far as applications from each user's training period (or other sources) back it.
MATCH (u:User)-[t:TAGGED]->(i:Item)
RETURN u.id AS user, i.id AS item, t.tag AS tag, coalesce(t.ts, 0) AS ts
