// The most recent refresh run that finished (published or kept), to know what is new since.
MATCH (r:RefreshRun) WHERE r.status IN ['published', 'kept']
RETURN r.id AS id, r.started AS started, r.finished AS finished, r.version AS version
ORDER BY r.started DESC LIMIT 1
