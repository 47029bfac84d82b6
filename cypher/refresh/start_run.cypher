// Record the start of a refresh run.
CREATE (r:RefreshRun {id: $id, started: datetime($started), status: 'running', host: $host, pid: $pid,
                      full: $full})
RETURN r.id AS id
