"""Graphviz DOT: for docs (``phasegate graph --format dot | dot -Tsvg``)."""

from __future__ import annotations

from phasegate.graph.model import Graph, Node
from phasegate.graph.text import lines_of

SHAPES = {"scraper": "cds", "processor": "box", "transition": "hexagon"}
EDGES = {"input": "", "expected": "", "not_expected": ' [style=dashed, label="not expected"]',
         "starts": " [style=bold]"}


def quote(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, so nothing ends it early."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _node(node: Node) -> str:
    label = "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"')
                       for line in lines_of(node))
    attributes = [f'label="{label}"', f"shape={SHAPES[node.kind]}"]
    if not node.enabled:
        attributes += ['style="filled,dashed"', 'fillcolor="#e6e6e6"', 'color="#767676"',
                       'fontcolor="#4d4d4d"']
    elif node.season_level:
        attributes.append("style=dotted")
    elif node.kind == "transition":
        attributes += ["style=filled", 'fillcolor="#eef3fb"', 'color="#2f5597"']
    return f"{quote(node.id)} [{', '.join(attributes)}];"


def render(graph: Graph) -> str:
    lines = [f"digraph {quote(graph.pipeline)} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11];',
             f"  label={quote(f'{graph.pipeline} (registry digest {graph.digest[:12]})')};"]
    for key, label, members in graph.groups():
        lines.append(f"  subgraph cluster_{key} {{ label={quote(label)};")
        lines += [f"    {_node(n)}" for n in members]
        lines.append("  }")
    lines += [f"  {_node(n)}" for n in graph.nodes if n.kind == "transition"]
    lines += [f"  {quote(e.source)} -> {quote(e.target)}{EDGES[e.kind]};" for e in graph.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
