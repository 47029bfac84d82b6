// Release our lock (only if it is still ours).
MATCH (l:RefreshLock {name: 'refresh', token: $token})
DELETE l
