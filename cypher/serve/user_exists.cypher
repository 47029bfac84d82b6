MATCH (u:User {id: $user}) RETURN u.id AS id
