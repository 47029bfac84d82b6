// The items of one genre (the `genre=` filter of recommendations and popular items).
MATCH (:Genre {name: $genre})<-[:IN_GENRE]-(i:Item)
RETURN i.id AS item
