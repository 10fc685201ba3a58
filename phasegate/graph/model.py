"""The registry as nodes and edges: pure, one model every renderer draws.

Scrapers feed processors (their ``inputs``), the processors of a phase feed
the transitions out of it, and a transition starts the processors of the
phase it leads to. A processor in a transition's phase that the transition
does not expect (disabled, season-level, left out) is drawn with a dashed
edge, so the expected set is visible at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from phasegate.registry.models import Registry
from phasegate.registry.semantics import (
    describe_causes,
    disabled_causes,
    effective_enablement,
    expected_set,
    required_set,
)

Kind = Literal["scraper", "processor", "transition"]
EdgeKind = Literal["input", "expected", "not_expected", "starts"]


@dataclass(frozen=True)
class Node:
    id: str  # unique, safe in every format: kind prefix and the registry name
    name: str
    kind: Kind
    layer: int  # left to right: scrapers 0, phase N processors 2N-3, its transition 2N-2
    enabled: bool = True
    reason: str | None = None  # why it is disabled
    season_level: bool = False
    detail: str = ""  # a transition: its action and counts
    expected: tuple[str, ...] = ()  # a transition's expected set
    phase: int | None = None  # a processor's phase, a transition's from_phase


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind


@dataclass(frozen=True)
class Graph:
    pipeline: str  # shortened and printable: it is drawn in every format
    digest: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def groups(self) -> list[tuple[str, str, list[Node]]]:
        """(key, label, members): the scrapers, then each phase's processors, as drawn boxed."""
        found: list[tuple[str, str, list[Node]]] = []
        scrapers = [n for n in self.nodes if n.kind == "scraper"]
        if scrapers:
            found.append(("scrapers", "scrapers", scrapers))
        phases = sorted({n.phase for n in self.nodes
                         if n.kind == "processor" and n.phase is not None})
        for phase in phases:
            found.append((f"phase_{phase}", f"phase {phase}", [
                n for n in self.nodes if n.kind == "processor" and n.phase == phase]))
        return found


def node_id(kind: Kind, name: str) -> str:
    return f"{kind[0]}_{name}"


def build(registry: Registry) -> Graph:
    """Every scraper, processor and transition, and how they connect, in registry order."""
    from phasegate.registry.semantics import digest

    enabled = effective_enablement(registry)
    phases = sorted({p.phase for p in registry.processors.values()}
                    | {t.from_phase for t in registry.transitions.values()}
                    | {t.to_phase for t in registry.transitions.values()})
    lowest = phases[0] if phases else 0

    def processor_layer(phase: int) -> int:
        return 1 + 2 * (phase - lowest)

    nodes: list[Node] = []
    edges: list[Edge] = []
    for name, scraper in registry.scrapers.items():
        reason = None if scraper.enabled else (scraper.disabled_reason or "disabled")
        nodes.append(Node(node_id("scraper", name), name, "scraper", 0, scraper.enabled, reason))
    for name, processor in registry.processors.items():
        on = enabled.get(name, processor.enabled)
        reason = None if on else (processor.disabled_reason or "disabled") if (
            not processor.enabled) else "upstream " + describe_causes(
            c for c in disabled_causes(registry, name) if c.name != name)
        nodes.append(Node(node_id("processor", name), name, "processor",
                          processor_layer(processor.phase), on, reason,
                          season_level=not processor.per_run_key, phase=processor.phase))
        for upstream in processor.inputs:
            kind: Kind = "scraper" if upstream in registry.scrapers else "processor"
            if upstream in registry.scrapers or upstream in registry.processors:
                edges.append(Edge(node_id(kind, upstream), node_id("processor", name), "input"))
    for name, transition in registry.transitions.items():
        expected = expected_set(registry, transition, None, enabled)
        required = required_set(registry, transition, None, enabled)
        extra = f", {len(required)} required" if required != expected else ""
        detail = f"{transition.action}; expects {len(expected)}{extra}"
        nodes.append(Node(node_id("transition", name), name, "transition",
                          processor_layer(transition.from_phase) + 1, detail=detail,
                          expected=tuple(sorted(expected)), phase=transition.from_phase))
        for processor_name, processor in registry.processors.items():
            if processor.phase == transition.from_phase:
                edges.append(Edge(node_id("processor", processor_name),
                                  node_id("transition", name),
                                  "expected" if processor_name in expected else "not_expected"))
            elif processor.phase == transition.to_phase:
                edges.append(Edge(node_id("transition", name),
                                  node_id("processor", processor_name), "starts"))
    from phasegate.graph.text import shorten

    return Graph(shorten(registry.pipeline), digest(registry), tuple(nodes), tuple(edges))
