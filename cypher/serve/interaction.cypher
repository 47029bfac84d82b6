// The stored interaction of one user with one item ({rating, event, weight, ts}), or a null signal.
// $interaction: the catalogue's interaction type. No row when the user does not exist.
MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[r]->(:Item {id: $item}) WHERE type(r) = $interaction
RETURN CASE WHEN r IS NULL THEN null ELSE {rating: r.rating, event: r.event, weight: r.weight, ts: r.ts} END AS signal
