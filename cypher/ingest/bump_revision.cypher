// An ingest changed the graph: bump its revision, so that serving processes drop what they cached
// (cypher/serve/revision.cypher).
MERGE (g:GraphState {id: 'graph'})
SET g.revision = coalesce(g.revision, 0) + 1, g.changed = datetime()
RETURN g.revision AS revision
