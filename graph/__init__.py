"""The graph layer: the local Neo4j server, the driver connection, Cypher files and the schema."""
