// Rows already in the graph, as [id, title, year, imdb_id, tmdb_id, overview, tagline] lists (the step's field order), collected
// into one list: the driver decodes one big list ~4x faster than as many records.
MATCH (m:Movie)
RETURN collect([m.id, m.title, m.year, m.imdb_id, m.tmdb_id, m.overview, m.tagline]) AS rows
