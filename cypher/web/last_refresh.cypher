// The latest refresh run (kgrec refresh) and how it ended, for the web page's status.
MATCH (r:RefreshRun)
RETURN r.id AS id, toString(r.started) AS started, toString(r.finished) AS finished, r.status AS status,
       r.version AS version, r.reason AS reason, r.counts AS counts, r.full AS full
ORDER BY r.started DESC
LIMIT 1
