"""Package marker: the .cypher files here install with kgrec and are loaded by name (kgrec.graph.cypher)."""
