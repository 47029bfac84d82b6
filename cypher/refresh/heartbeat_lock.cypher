// Extend our lock while the run is alive. No row when the lock is no longer ours.
MATCH (l:RefreshLock {name: 'refresh', token: $token})
SET l.expires = $expires
RETURN l.expires AS expires
