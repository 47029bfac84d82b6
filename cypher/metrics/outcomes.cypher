// What /metrics reads at scrape time: ingest and refresh outcomes (from any process) and the graph's revision.
CALL () {
  MATCH (c:IngestOutcome)
  RETURN collect({catalogue: c.catalogue, outcome: c.outcome, count: c.count,
                  last: c.last.epochMillis / 1000.0}) AS ingests
}
CALL () {
  MATCH (r:RefreshRun) WHERE r.status <> 'running'
  WITH r.status AS status, count(r) AS runs, max(r.finished) AS last
  RETURN collect({status: status, count: runs, last: last.epochMillis / 1000.0}) AS refreshes
}
OPTIONAL MATCH (g:GraphState {id: 'graph'})
RETURN ingests, refreshes, g.revision AS graph_revision, g.changed.epochMillis / 1000.0 AS graph_changed
