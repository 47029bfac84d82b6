// Social edges already in the graph, as [user, other, kind] lists, collected into one list.
MATCH (u:User)-[r:FOLLOWS|FRIEND]->(o:User)
RETURN collect([u.id, o.id, toLower(type(r))]) AS rows
