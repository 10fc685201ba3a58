"""Labels every renderer shares: shortened, one line each, from the model."""

from __future__ import annotations

from phasegate.graph.model import Node
from phasegate.runtime import printable

MAX_LABEL = 60
MAX_NAMES = 12  # expected names listed in a transition's label; the rest are counted


def shorten(text: str, limit: int = MAX_LABEL) -> str:
    value = " ".join(printable(text).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def lines_of(node: Node) -> list[str]:
    """The lines of a node's label: its name, then what makes it different."""
    lines = [shorten(node.name)]
    if not node.enabled:
        lines.append(shorten(f"disabled: {node.reason or 'disabled'}"))
    if node.season_level:
        lines.append("season-level (not per run key)")
    if node.kind == "transition":
        lines.append(shorten(node.detail))
        lines += [f"• {shorten(name)}" for name in node.expected[:MAX_NAMES]]
        if len(node.expected) > MAX_NAMES:
            lines.append(f"and {len(node.expected) - MAX_NAMES} more")
    return lines
