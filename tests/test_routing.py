"""NEO4J_URI=neo4j://… (a cluster, Aura): the routing driver against the session's server (a standalone
server answers routing with itself), and the causal chain through the Graph's shared bookmark manager."""
from __future__ import annotations

from dataclasses import replace

from kgrec.config import Settings
from kgrec.graph.connection import Graph, connection_params


def test_routing_uri_reads_see_this_process_writes(graph: Graph, neo4j_settings: Settings) -> None:
    uri, (user, password) = connection_params(neo4j_settings)
    host_port = uri.split("://", 1)[1]
    routed = replace(neo4j_settings, neo4j_uri=f"neo4j://{host_port}", neo4j_user=user, neo4j_password=password)
    with Graph.connect(routed) as g:
        assert g.driver.__class__.__name__ == "Neo4jDriver"  # the routing driver, not a direct bolt one
        assert not list(g.bookmarks.get_bookmarks())
        g.run_text("MERGE (s:RoutingProbe {id: 1}) SET s.n = coalesce(s.n, 0) + 1 RETURN s.n AS n", write=True)
        held = list(g.bookmarks.get_bookmarks())
        assert held, "a write leaves its bookmark in the shared manager"
        # a read in another session of the same Graph carries those bookmarks: it sees the write
        rows = g.run_text("MATCH (s:RoutingProbe {id: 1}) RETURN s.n AS n")
        assert rows and rows[0]["n"] >= 1
        routing = g.driver.execute_query("CALL dbms.routing.getRoutingTable({}) YIELD servers RETURN servers",
                                          routing_="r").records[0]["servers"]
        assert {s["role"] for s in routing} >= {"READ", "WRITE"}
        g.run_text("MATCH (s:RoutingProbe) DELETE s", write=True)
