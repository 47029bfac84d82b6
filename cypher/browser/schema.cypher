// The graph model as Browser draws it: labels and relationship types.
CALL db.schema.visualization()
