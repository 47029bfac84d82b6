// Social edges as [user, other] pairs, meaning "user sees what other likes": FOLLOWS as given, FRIEND both
// ways (it is stored once), in one list.
MATCH (a:User)-[r:FOLLOWS|FRIEND]->(b:User)
RETURN collect([a.id, b.id]) + [(x:User)-[:FRIEND]->(y:User) | [y.id, x.id]] AS rows
