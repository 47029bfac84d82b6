// Record the catalogue schema the graph is built with; everything downstream reads it from here.
MERGE (g:GraphState {id: 'graph'})
SET g.catalogue = $text, g.catalogue_name = $catalogue
