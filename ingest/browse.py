"""``kgrec browse``: where Neo4j Browser is, how to log in, and how to load kgrec's style and queries."""
from __future__ import annotations

from pathlib import Path

from kgrec.config import Settings
from kgrec.graph.cypher import CYPHER_DIR

BROWSER_DIR = CYPHER_DIR / "browser"
STYLE_FILE = BROWSER_DIR / "kgrec.grass"


def browser_queries() -> list[tuple[Path, str]]:
    """(file, first comment line) for every shipped Browser query."""
    out = []
    for path in sorted(BROWSER_DIR.glob("*.cypher")):
        first = next((line.lstrip("/ ").strip() for line in path.read_text(encoding="utf-8").splitlines()
                      if line.startswith("//")), "")
        out.append((path, first))
    return out


def browse_text(settings: Settings) -> str:
    if settings.uses_local_server:
        from kgrec.graph.embedded import LocalServer

        server = LocalServer.from_settings(settings)
        running = server.pid() is not None
        lines = [
            f"Neo4j Browser:  {server.browser_url}" + ("" if running else "   (the server is not running: "
                                                           "`kgrec neo4j start`)"),
            f"Connect URL:    {server.bolt_uri}",
            "User:           neo4j",
            f"Password:       in {server.password_file}  (e.g. `cat {server.password_file}`)",
        ]
    else:
        lines = [
            "Neo4j Browser:  your server's Browser (Aura console, or http://<host>:7474/browser/)",
            f"Connect URL:    {settings.neo4j_uri}",
            f"User:           {settings.neo4j_user}",
            "Password:       the one in your NEO4J_PASSWORD environment variable",
        ]
    lines += [
        "",
        f"Style: drag and drop {STYLE_FILE} onto the Browser window (captions by title/name, one colour",
        "       per label). `:style reset` goes back to Browser's default.",
        "",
        "Queries (set their parameters first, e.g. `:param userId => 1` and `:param movieId => 79132`);",
        "open the Favorites drawer (the star) and drop these files there to keep them, or paste one into the editor:",
    ]
    lines += [f"  {path}\n      {about}" for path, about in browser_queries()]
    return "\n".join(lines)
