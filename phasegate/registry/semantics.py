"""What a registry means: enablement, expected sets and the content digest.

Pure functions over a validated :class:`~registry.models.Registry`; the
validator, the generator and the tests all use these, so "expected" has one
definition everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from phasegate.registry.models import Mode, Registry, Transition, digest_data


@dataclass(frozen=True)
class DisabledCause:
    """Why a name is not effectively enabled: the entry switched off, and its path."""

    name: str
    kind: str  # "scraper" or "processor"
    reason: str | None
    disabled_on: str | None
    chain: tuple[str, ...]  # from the name asked about down to ``name``


def effective_enablement(registry: Registry) -> dict[str, bool]:
    """Every scraper's and processor's effective enablement.

    A processor is effectively enabled when its own flag is true and every
    input is effectively enabled. Unknown inputs and inputs in a cycle do not
    disable anything here: PG101 and PG111 report those on their own.
    """
    result: dict[str, bool] = {name: s.enabled for name, s in registry.scrapers.items()}
    processors = registry.processors
    for start in processors:  # depth first, with an explicit stack: chains of any length
        if start in result:
            continue
        visiting = {start}
        stack = [(start, iter(processors[start].inputs))]
        while stack:
            name, inputs = stack[-1]
            upstream = next((i for i in inputs if i in processors and i not in result
                             and i not in visiting), None)
            if upstream is not None:
                visiting.add(upstream)
                stack.append((upstream, iter(processors[upstream].inputs)))
                continue
            stack.pop()
            visiting.discard(name)
            processor = processors[name]
            # an unknown input or one still being resolved (a cycle) disables nothing
            result[name] = processor.enabled and all(result.get(i, True)
                                                     for i in processor.inputs)
    return result


def disabled_causes(registry: Registry, name: str) -> list[DisabledCause]:
    """The entries switched off by their own flag that disable ``name``.

    The walk continues upstream past a disabled processor, so a processor
    switched off because its scraper was retired names the scraper too.
    """
    found: list[DisabledCause] = []
    seen: set[str] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [(name, (name,))]
    while pending:  # depth first in input order, without recursion
        current, chain = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        entry = registry.scrapers.get(current) or registry.processors.get(current)
        if entry is None:
            continue
        if not entry.enabled:
            kind = "scraper" if current in registry.scrapers else "processor"
            on = entry.disabled_on.isoformat() if entry.disabled_on else None
            found.append(DisabledCause(current, kind, entry.disabled_reason, on, chain))
        processor = registry.processors.get(current)
        pending.extend((upstream, (*chain, upstream))
                       for upstream in reversed(processor.inputs if processor else ()))
    return found


def describe_causes(causes: Iterable[DisabledCause]) -> str:
    """Human words for why something is disabled, for validator and canary messages."""
    parts = []
    for cause in causes:
        detail = ", ".join(
            bit for bit in (cause.reason, f"since {cause.disabled_on}" if cause.disabled_on else "")
            if bit
        )
        via = f" (via {' -> '.join(cause.chain)})" if len(cause.chain) > 2 else ""
        parts.append(f"{cause.kind} {cause.name} is disabled{f': {detail}' if detail else ''}{via}")
    return "; ".join(parts) or "it is disabled"


def auto_expected(registry: Registry, phase: int, enabled: Mapping[str, bool]) -> frozenset[str]:
    """What ``expects: all`` means: enabled, per-run-key processors of ``phase``."""
    return frozenset(
        name for name, p in registry.processors.items()
        if p.phase == phase and p.per_run_key and enabled.get(name, False)
    )


def expected_set(
    registry: Registry,
    transition: Transition,
    mode: Mode | None = None,
    enabled: Mapping[str, bool] | None = None,
) -> frozenset[str]:
    """The processors a transition (or one of its modes) waits for."""
    enabled = effective_enablement(registry) if enabled is None else enabled
    expects = mode.expects if mode is not None else transition.expects
    if expects == "all":
        return auto_expected(registry, transition.from_phase, enabled)
    return frozenset(expects)


def required_set(
    registry: Registry,
    transition: Transition,
    mode: Mode | None = None,
    enabled: Mapping[str, bool] | None = None,
) -> frozenset[str]:
    """The processors without which the transition never fires (but for all_complete).

    Explicit ``required`` if given; when absent, everything expected, unless
    the transition has a policy: then nothing (a tier's ``min`` says how many),
    since "all required" would turn every tier into "all". A mode without
    ``required`` follows the same rule with its own expected set; under a
    policy it keeps the transition's own ``required`` (those the mode expects):
    "never fire without these" holds in every mode.
    """
    required = mode.required if mode is not None else transition.required
    if required is not None:
        return frozenset(required)
    if transition.policy:
        if mode is not None and transition.required is not None:
            return frozenset(transition.required) & expected_set(registry, transition, mode,
                                                                 enabled)
        return frozenset()
    return expected_set(registry, transition, mode, enabled)


def alias_map(registry: Registry) -> dict[str, str]:
    """Every name a processor may report under, mapped to its canonical name."""
    names = {name: name for name in registry.processors}
    for name, processor in registry.processors.items():
        for alias in processor.aliases:
            names.setdefault(alias, name)
    return names


def canonical_json(registry: Registry) -> str:
    """The registry as canonical JSON: defaults left out, keys sorted, no spaces.

    Two registries that mean the same (comments, ordering, spelled-out
    defaults aside) have the same canonical JSON and so the same digest.
    """
    return _canonical(digest_data(registry))


def _canonical(data: object) -> str:
    import json  # only generation and the digest need it; validate starts faster without

    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(registry: Registry) -> str:
    """sha256 of the canonical JSON, as stamped on artifacts."""
    return _sha256(canonical_json(registry))


def transition_behaviour(registry: Registry, name: str,
                         enabled: Mapping[str, bool] | None = None) -> dict[str, object]:
    """What one transition's runtime behaviour depends on, and nothing else.

    Its expected, required and mode sets (as resolved, so disabling an
    upstream scraper changes them), its action, policy and target, its scope (phase,
    collection) and the aliases of the processors in that scope, and the
    timezone that decides a run key's mode. Deadlines, grace and canary
    settings are the canary's business: editing them never makes an
    orchestrator's documents stale.
    """
    transition = registry.transitions[name]
    enabled = enabled if enabled is not None else effective_enablement(registry)
    in_scope = {p for p, proc in registry.processors.items()
                if proc.phase == transition.from_phase}
    behaviour: dict[str, object] = {
        "timezone": registry.timezone,
        "from_phase": transition.from_phase,
        "to_phase": transition.to_phase,
        "collection": transition.collection,
        "action": transition.action,
        "expected": sorted(expected_set(registry, transition, None, enabled)),
        "required": sorted(required_set(registry, transition, None, enabled)),
        "modes": {
            mode_name: {"when": mode.when,
                        "expected": sorted(expected_set(registry, transition, mode, enabled)),
                        "required": sorted(required_set(registry, transition, mode, enabled))}
            for mode_name, mode in sorted(transition.modes.items())
        },
        "aliases": {alias: canonical for alias, canonical in sorted(alias_map(registry).items())
                    if canonical in in_scope},
    }
    # only what is present, normalized (a bare Pub/Sub target is trigger_topic): a registry
    # that uses none of these keeps the digest it had before they existed
    shape = transition.normalized()
    optional = {"trigger_topic": shape.trigger_topic, "auto_heal": shape.auto_heal,
                "policy": digest_data(shape.policy), "target": digest_data(shape.target)}
    behaviour.update({key: value for key, value in optional.items() if value})
    return behaviour


def transition_digest(registry: Registry, name: str,
                      enabled: Mapping[str, bool] | None = None) -> str:
    """sha256 of :func:`transition_behaviour`: stamped on every document the transition writes."""
    return _sha256(_canonical(transition_behaviour(registry, name, enabled)))
