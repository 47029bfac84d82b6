"""Explanations: literal graph paths from a user to a recommended item, read back from Neo4j and ranked."""
