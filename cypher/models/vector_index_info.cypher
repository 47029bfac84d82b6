// The item embedding vector index, if any, and its dimension.
SHOW VECTOR INDEXES YIELD name, options
WHERE name = $index
RETURN name, options.indexConfig['vector.dimensions'] AS dimensions
