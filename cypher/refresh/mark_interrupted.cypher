// Runs still marked running while we hold the lock were killed: record them as failed.
MATCH (r:RefreshRun {status: 'running'}) WHERE r.id <> $current
SET r.status = 'failed', r.finished = datetime($finished),
    r.reason = 'interrupted: the process stopped before the run finished (the active version kept serving)'
RETURN count(r) AS interrupted
