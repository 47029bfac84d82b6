"""Explanation paths for the web page: a small left-to-right picture of each path (server-rendered SVG),
coloured by label with the Neo4j Browser style of cypher/browser/kgrec.grass, and the Cypher that MATCHes
that exact path again (for the "open in Neo4j Browser" link)."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

#: horizontal distance between two nodes, node radius, picture height and side margin (room for the first
#: and last names), in SVG units
STEP, RADIUS, HEIGHT, MARGIN = 170, 24, 96, 80
#: a name longer than this is cut under its node (the full name is in the picture's text alternative)
NAME_CHARS = 22
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class NodeStyle:
    fill: str
    stroke: str
    text: str


@cache
def styles() -> tuple[dict[str, NodeStyle], dict[str, str]]:
    """Node styles by label and relationship colours by type, read from the Browser style itself."""
    grass = resources.files("kgrec.cypher").joinpath("browser/kgrec.grass").read_text(encoding="utf-8")
    blocks = {sel.strip(): dict(re.findall(r"([\w-]+)\s*:\s*([^;]+);", body))
              for sel, body in re.findall(r"([\w.]+)\s*\{([^}]*)\}", grass)}
    base = blocks.get("node", {})
    nodes = {}
    for selector, props in blocks.items():
        if selector.startswith("node."):
            merged = {**base, **props}
            nodes[selector[5:]] = NodeStyle(merged.get("color", "#A5ABB6"), merged.get("border-color", "#9AA1AC"),
                                            merged.get("text-color-internal", "#FFFFFF"))
    nodes[""] = NodeStyle(base.get("color", "#A5ABB6"), base.get("border-color", "#9AA1AC"),
                          base.get("text-color-internal", "#FFFFFF"))
    default_rel = blocks.get("relationship", {}).get("color", "#A5ABB6")
    rels = {sel[13:]: props.get("color", default_rel) for sel, props in blocks.items()
            if sel.startswith("relationship.")}
    rels[""] = default_rel
    return nodes, rels


def node_style(labels: Sequence[str]) -> NodeStyle:
    """The style of a node's first label that has one (the API lists the primary label first)."""
    nodes, _ = styles()
    return next((nodes[label] for label in labels if label in nodes), nodes[""])


def picture(path: Mapping[str, Any]) -> dict[str, Any]:
    """What the template draws: nodes placed left to right, edges with their type and direction, and a
    one-line text alternative (the path in Cypher-like notation)."""
    _, rel_colours = styles()
    nodes = []
    for i, node in enumerate(path["nodes"]):
        style = node_style(node["labels"])
        name = str(node["name"])
        nodes.append({"x": MARGIN + i * STEP, "y": RADIUS + 18, "label": node["labels"][0],
                      "name": name, "short": name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…",
                      "style": style})
    edges = []
    for rel in path["relationships"]:
        a, b = nodes[rel["start"]], nodes[rel["end"]]
        sign = 1 if b["x"] > a["x"] else -1
        caption = rel["type"]
        rating = (rel.get("properties") or {}).get("rating")
        if rating is not None:
            caption += f" {rating:g}★"
        edges.append({"x1": a["x"] + sign * RADIUS, "x2": b["x"] - sign * (RADIUS + 3), "y": a["y"],
                      "mid": (a["x"] + b["x"]) / 2, "caption": caption,
                      "colour": rel_colours.get(rel["type"], rel_colours[""])})
    width = 2 * MARGIN + STEP * max(len(nodes) - 1, 0)
    return {"nodes": nodes, "edges": edges, "width": width, "height": HEIGHT, "text": describe(path)}


def describe(path: Mapping[str, Any]) -> str:
    """The path in words for screen readers: (User 1) -INTERACTED→ (Product: Kettle) -MADE_BY→ (Brand: Acme)."""
    nodes = path["nodes"]
    chain = _chain(path)
    if chain is None:  # not a chain: each relationship on its own
        return "; ".join(f"{_node_text(nodes[r['start']])} -{r['type']}→ {_node_text(nodes[r['end']])}"
                         for r in path["relationships"]) or _node_text(nodes[0])
    parts = [_node_text(nodes[0])]
    for i, rel in enumerate(chain):
        parts.append(f"-{rel['type']}→" if rel["start"] == i else f"←{rel['type']}-")
        parts.append(_node_text(nodes[i + 1]))
    return " ".join(parts)


def _node_text(node: Mapping[str, Any]) -> str:
    label = node["labels"][0]
    return f"({node['name']})" if label == "User" else f"({label}: {node['name']})"


def _chain(path: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The relationships in node order when relationship i links node i and node i+1, else None."""
    rels = path["relationships"]
    if len(rels) != len(path["nodes"]) - 1:
        return None
    for i, rel in enumerate(rels):
        if {rel["start"], rel["end"]} != {i, i + 1}:
            return None
    return rels


def match_cypher(path: Mapping[str, Any]) -> str:
    """A Cypher query that matches exactly this path: every node by its label and unique key, every
    relationship by its type and direction."""
    nodes = path["nodes"]

    def node(i: int) -> str:
        n = nodes[i]
        labels = ":".join(_name(label) for label in n["labels"])  # all of them: one has the key's index
        return f"(n{i}:{labels} {{{_name(n['key'])}: {_literal(n['value'])}}})"

    chain = _chain(path)
    if chain is not None:
        text = node(0)
        for i, rel in enumerate(chain):
            arrow = f"-[:{_name(rel['type'])}]->" if rel["start"] == i else f"<-[:{_name(rel['type'])}]-"
            text += arrow + node(i + 1)
        return f"MATCH p = {text}\nRETURN p"
    declared = ", ".join(node(i) for i in range(len(nodes)))
    patterns = ", ".join(f"p{j} = (n{r['start']})-[:{_name(r['type'])}]->(n{r['end']})"
                         for j, r in enumerate(path["relationships"]))
    returned = ", ".join(f"p{j}" for j in range(len(path["relationships"]))) or "n0"
    return f"MATCH {declared}\n" + (f"MATCH {patterns}\n" if patterns else "") + f"RETURN {returned}"


def browser_link(base: str | None, bolt_uri: str, user: str, query: str) -> str | None:
    """The Neo4j Browser URL that opens with ``query`` in its editor (and the connection pre-filled)."""
    if not base:
        return None
    scheme, _, rest = bolt_uri.partition("://")
    dbms = f"{scheme}://{user}@{rest}" if rest and "@" not in rest else bolt_uri
    return f"{base.rstrip('/')}/?{urlencode({'dbms': dbms, 'cmd': 'edit', 'arg': query})}"


def _name(name: str) -> str:
    return name if _IDENTIFIER.match(name) else "`" + name.replace("`", "``") + "`"


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
