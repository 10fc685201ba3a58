"""Mermaid flowchart (GitHub renders it in Markdown): the graph for READMEs and pull requests."""

from __future__ import annotations

from phasegate.graph.model import Graph, Node
from phasegate.graph.text import lines_of

SHAPES = {"scraper": ('(["', '"])'), "processor": ('["', '"]'), "transition": ('{{"', '"}}')}
ARROWS = {"input": "-->", "expected": "-->", "not_expected": "-. not expected .->",
          "starts": "==>"}
SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.,:/-+*=!?'@")


def escape(text: str) -> str:
    """Mermaid's entity codes for anything that could end a label or start markup."""
    return "".join(ch if ch in SAFE else f"#{ord(ch)};" for ch in text)


def _label(node: Node) -> str:
    return "<br/>".join(escape(line) for line in lines_of(node))


def _declare(node: Node) -> str:
    opening, closing = SHAPES[node.kind]
    return f"{node.id}{opening}{_label(node)}{closing}"


def render(graph: Graph) -> str:
    """``flowchart LR``: scrapers, then each phase's processors in a subgraph, transitions."""
    lines = ["flowchart LR"]
    for key, label, members in graph.groups():
        lines.append(f"  subgraph {key} [{label}]")
        lines += [f"    {_declare(n)}" for n in members]
        lines.append("  end")
    lines += [f"  {_declare(n)}" for n in graph.nodes if n.kind == "transition"]
    lines += [f"  {e.source} {ARROWS[e.kind]} {e.target}" for e in graph.edges]
    disabled = [n.id for n in graph.nodes if not n.enabled]
    season = [n.id for n in graph.nodes if n.season_level and n.enabled]
    lines.append("  classDef disabled fill:#e6e6e6,stroke:#767676,color:#4d4d4d,"
                 "stroke-dasharray:5 3")
    lines.append("  classDef season stroke-dasharray:2 2")
    lines.append("  classDef transition fill:#eef3fb,stroke:#2f5597")
    if disabled:
        lines.append(f"  class {','.join(disabled)} disabled")
    if season:
        lines.append(f"  class {','.join(season)} season")
    transitions = [n.id for n in graph.nodes if n.kind == "transition"]
    if transitions:
        lines.append(f"  class {','.join(transitions)} transition")
    return "\n".join(lines) + "\n"

