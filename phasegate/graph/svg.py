"""SVG drawn by phasegate itself: no Graphviz or other system dependency.

A layered layout: one column per layer (scrapers, then each phase's
processors and the transition out of it), nodes stacked in registry order,
edges as curves from the right side of one box to the left side of the next.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from phasegate.graph.model import Graph, Node
from phasegate.graph.text import lines_of

WIDTH, COLUMN, GAP, MARGIN, LINE, PAD = 250, 320, 22, 24, 15, 10
WRAP = 36  # characters per line inside a box
FILLS = {"scraper": "#f4f8ee", "processor": "#ffffff", "transition": "#eef3fb"}
STROKES = {"scraper": "#4f7a28", "processor": "#404040", "transition": "#2f5597"}


@dataclass(frozen=True)
class Box:
    node: Node
    x: int
    y: int
    lines: tuple[str, ...]

    @property
    def height(self) -> int:
        return 2 * PAD + LINE * len(self.lines)


def _lines(node: Node) -> tuple[str, ...]:
    wrapped: list[str] = []
    for line in lines_of(node):
        wrapped += textwrap.wrap(line, WRAP) or [""]
    return tuple(wrapped[:20])


def layout(graph: Graph) -> dict[str, Box]:
    boxes: dict[str, Box] = {}
    layers = sorted({n.layer for n in graph.nodes})
    for column, layer in enumerate(layers):
        y = MARGIN + 20
        for node in (n for n in graph.nodes if n.layer == layer):
            box = Box(node, MARGIN + column * COLUMN, y, _lines(node))
            boxes[node.id] = box
            y += box.height + GAP
    return boxes


def render(graph: Graph) -> str:
    boxes = layout(graph)
    width = max((b.x + WIDTH for b in boxes.values()), default=MARGIN) + MARGIN
    height = max((b.y + b.height for b in boxes.values()), default=MARGIN) + MARGIN
    title = f"{graph.pipeline}: scrapers, processors and transitions"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)} '
           'font-family="Helvetica, Arial, sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
           'fill="#555555"/></marker></defs>',
           f'<text x="{MARGIN}" y="{MARGIN}" fill="#333333">{escape(graph.pipeline)} '
           f"(registry digest {graph.digest[:12]})</text>"]
    for edge in graph.edges:
        source, target = boxes.get(edge.source), boxes.get(edge.target)
        if source is None or target is None:
            continue
        x1, y1 = source.x + WIDTH, source.y + source.height // 2
        x2, y2 = target.x, target.y + target.height // 2
        bend = max(40, abs(x2 - x1) // 2)
        dash = ' stroke-dasharray="6 4"' if edge.kind == "not_expected" else ""
        stroke = "2.2" if edge.kind == "starts" else "1.2"
        out.append(f'<path class="edge {edge.kind}" d="M {x1} {y1} C {x1 + bend} {y1}, '
                   f'{x2 - bend} {y2}, {x2} {y2}" fill="none" stroke="#555555" '
                   f'stroke-width="{stroke}"{dash} marker-end="url(#arrow)">'
                   f"<title>{escape(edge.source)} to {escape(edge.target)} "
                   f"({edge.kind.replace('_', ' ')})</title></path>")
    for box in boxes.values():
        node = box.node
        fill = "#e6e6e6" if not node.enabled else FILLS[node.kind]
        stroke = "#767676" if not node.enabled else STROKES[node.kind]
        dash = (' stroke-dasharray="5 3"' if not node.enabled
                else ' stroke-dasharray="2 2"' if node.season_level else "")
        radius = 14 if node.kind == "scraper" else 4
        out.append(f'<g class="node {node.kind}{"" if node.enabled else " disabled"}" '
                   f'id={quoteattr(node.id)}><title>{escape(" / ".join(lines_of(node)))}'
                   "</title>")
        out.append(f'<rect x="{box.x}" y="{box.y}" width="{WIDTH}" height="{box.height}" '
                   f'rx="{radius}" fill="{fill}" stroke="{stroke}"{dash}/>')
        colour = "#4d4d4d" if not node.enabled else "#1a1a1a"
        for index, line in enumerate(box.lines):
            weight = ' font-weight="bold"' if index == 0 else ""
            out.append(f'<text x="{box.x + PAD}" y="{box.y + PAD + LINE * (index + 1) - 3}" '
                       f'fill="{colour}"{weight}>{escape(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
