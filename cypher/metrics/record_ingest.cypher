// Count one ingest and how it ended (ok, too_many_rejects, failed), for every serving process's /metrics.
MERGE (c:IngestOutcome {catalogue: $catalogue, outcome: $outcome})
SET c.count = coalesce(c.count, 0) + 1, c.last = datetime()
RETURN c.count AS count
