// The catalogue schema the graph was built with (its TOML text), stored by ingest. No row: none yet.
MATCH (g:GraphState {id: 'graph'})
WHERE g.catalogue IS NOT NULL
RETURN g.catalogue AS text, g.catalogue_name AS name
