// Take the refresh lock unless a live run holds it. A lock expires at `expires` (ms since the epoch); the
// caller also passes the owners it knows to be dead (same host, process gone), whose locks it may take.
// Returns the lock as it is after the attempt: the caller holds it when `token` is its own.
MERGE (l:RefreshLock {name: 'refresh'})
ON CREATE SET l.token = $token, l.host = $host, l.pid = $pid, l.run = $run, l.expires = $expires
WITH l
CALL (l) {
  WITH l WHERE l.token <> $token AND (l.expires < $now OR (l.host = $host AND l.pid IN $dead_pids))
  SET l.token = $token, l.host = $host, l.pid = $pid, l.run = $run, l.expires = $expires
}
RETURN l.token AS token, l.host AS host, l.pid AS pid, l.run AS run, l.expires AS expires
