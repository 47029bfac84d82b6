// The current holder of the refresh lock, if any.
MATCH (l:RefreshLock {name: 'refresh'})
RETURN l.token AS token, l.host AS host, l.pid AS pid, l.run AS run, l.expires AS expires
