// Dropped before it is recreated with another dimension.
DROP INDEX item_embedding IF EXISTS
