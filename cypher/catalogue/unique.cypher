// A uniqueness constraint (and the index MERGE uses) for a label the catalogue schema names.
CREATE CONSTRAINT {{name}} IF NOT EXISTS FOR (n:{{label}}) REQUIRE n.{{key}} IS UNIQUE
