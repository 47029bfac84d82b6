// Every Item id in the graph, collected into one list (checks interactions that name items loaded earlier).
MATCH (i:Item) RETURN collect(i.id) AS ids
