// A lookup index on the display name of an id-keyed attribute label (entity linking finds nodes by name).
CREATE INDEX {{name}} IF NOT EXISTS FOR (n:{{label}}) ON (n.name)
