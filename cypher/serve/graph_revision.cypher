// The graph's revision (bumped by every ingest, item write and erasure): what serving's view of items added
// after training depends on.
OPTIONAL MATCH (g:GraphState {id: 'graph'})
RETURN coalesce(g.revision, 0) AS revision
