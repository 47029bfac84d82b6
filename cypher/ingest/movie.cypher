// (:Movie:Item) nodes with their MovieLens/TMDB properties. $rows: [{id, title, year, imdb_id, tmdb_id, overview, tagline}]
UNWIND $rows AS row
MERGE (m:Item {id: row.id})
SET m:Movie, m.title = row.title, m.year = row.year, m.imdb_id = row.imdb_id, m.tmdb_id = row.tmdb_id,
    m.overview = row.overview, m.tagline = row.tagline
