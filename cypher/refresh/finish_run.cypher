// Record how a refresh run ended: status is published, kept or failed; counts and metrics as JSON text.
MATCH (r:RefreshRun {id: $id})
SET r.finished = datetime($finished), r.status = $status, r.counts = $counts, r.metrics = $metrics,
    r.version = $version, r.reason = $reason
RETURN r.id AS id, r.status AS status
