"""PG112 policy: A policy that can never hold or is not monotonic, or a target template
that cannot render.

A transition's `policy` tiers must relax over time: each tier's `after`
is later than the one before and before `deadline_minutes` (`auto_heal:
true` already adds the tier at the deadline), and no tier asks for more
complete processors than the one before it, for the transition and for each
of its modes (`min` counted against that expected set, required ones always
included). A policy or a target on `action: monitor` never fires. A
target's `message` template may use only the placeholders `{run_key}`,
`{transition}`, `{mode}`, `{reason}`, `{trigger_id}`, `{completed}`,
`{missing}` and, with `each: completed`, `{processor}`; every value in it
must be something JSON holds (quote a date such as `2026-02-10` to send it
as text).

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
  p2_injuries: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    action: trigger
    required: [p2_gamebook]
    policy:
      - {after: 30m, min: 2}
      - {after: 2h, min: all}
    target:
      pubsub:
        topic: phase3-trigger
        message: {game_date: "{date}"}
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
  p2_injuries: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    action: trigger
    required: [p2_gamebook]
    policy:
      - {after: 30m, min: 2}
      - {after: 2h, min: required}
    target:
      pubsub:
        topic: phase3-trigger
        message: {game_date: "{run_key}", reason: "{reason}"}
```
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import Any

from phasegate.policy import Tier, needed, resolved_min, template_problems
from phasegate.registry.models import Transition
from phasegate.registry.semantics import expected_set, required_set
from phasegate.validator.context import PathKey, Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for t_name, transition in ctx.transitions():
        base: PathKey = ("transitions", t_name)
        if transition.action == "monitor":
            for field in ("policy", "target"):
                if getattr(transition, field):
                    yield ctx.report(
                        RULE, (*base, field),
                        f"transition {t_name} has a {field} but action: monitor never fires; "
                        f"set action: trigger or remove the {field}", t_name, key=True)
        yield from _timing(ctx, t_name, transition)
        yield from _monotonic(ctx, t_name, transition)
        yield from _template(ctx, t_name, transition)


def _tiers(transition: Transition) -> list[Tier]:
    return [Tier(tier.after, tier.min) for tier in transition.policy]


def _timing(ctx: RuleContext, t_name: str, transition: Transition) -> Iterator[Finding]:
    """``after`` strictly increasing, and every tier before the deadline."""
    tiers = _tiers(transition)
    deadline = transition.deadline_minutes
    for index, tier in enumerate(tiers):
        where = ("transitions", t_name, "policy", index, "after")
        if index and tier.delay <= tiers[index - 1].delay:
            yield ctx.report(
                RULE, where,
                f"transition {t_name} policy tier {index} (after {tier.after}) is not later "
                f"than tier {index - 1} (after {tiers[index - 1].after}); tiers relax over "
                "time, so each after must be later than the one before", t_name)
        if tier.delay.total_seconds() >= deadline * 60:
            yield ctx.report(
                RULE, where,
                f"transition {t_name} policy tier {index} (after {tier.after}) is at or past "
                f"deadline_minutes {deadline}, where the transition is LATE; move it before "
                "the deadline (auto_heal: true fires with the required ones at the deadline)",
                t_name)


def _monotonic(ctx: RuleContext, t_name: str, transition: Transition) -> Iterator[Finding]:
    """No tier may ask for more than the one before, for the transition and for each mode."""
    tiers = _tiers(transition)
    registry = ctx.registry
    for index in range(1, len(tiers)):
        for m_name, mode in ctx.modes_of(transition):
            expected = len(expected_set(registry, transition, mode, ctx.enabled))
            required = len(required_set(registry, transition, mode, ctx.enabled))
            now = _strictness(tiers[index], expected, required)
            before = _strictness(tiers[index - 1], expected, required)
            if now <= before:
                continue
            scope = f" in mode {m_name}" if m_name else ""
            yield ctx.report(
                RULE, ("transitions", t_name, "policy", index, "min"),
                f"transition {t_name} policy tier {index} (after {tiers[index].after}, min "
                f"{tiers[index].min}) needs {now} complete{scope} ({expected} expected, "
                f"{required} required), more than tier {index - 1} (after "
                f"{tiers[index - 1].after}, min {tiers[index - 1].min}) needs ({before}); a "
                "later tier must never ask for more", t_name)
            break  # one finding per tier: the first scope that shows it


def _strictness(tier: Tier, expected: int, required: int) -> int:
    """How many complete processors ``tier`` needs at least.

    :func:`~phasegate.policy.resolved_min`, except that ``min: required`` with
    nothing required still needs one completion (the clock starts at the
    first), so a later ``min: 1`` asks for no more.
    """
    return max(resolved_min(tier, expected, required), needed(tier, expected))


def _template(ctx: RuleContext, t_name: str, transition: Transition) -> Iterator[Finding]:
    """Every problem of the target's message template, at the value it is about."""
    target = transition.target
    if target is None:
        return
    kind = target.kind
    settings = target.pubsub if target.pubsub is not None else target.http
    assert settings is not None
    if settings.message is None:
        return
    base = ("transitions", t_name, "target", kind, "message")
    for path, problem in template_problems(settings.message, settings.each):
        real, is_key = _real_path(settings.message, path)
        yield ctx.report(
            RULE, (*base, *real),
            f"transition {t_name} target {kind} {_path_text(path)}: {problem}", t_name,
            key=is_key)


def _real_path(template: Any, path: tuple[str | int, ...]) -> tuple[tuple[Hashable, ...], bool]:
    """``path`` with the template's own keys (a key 1 is reported as "1"), and whether it
    ends at a key that is not text (then the key itself is the problem)."""
    real: list[Hashable] = []
    node: Any = template
    is_key = False
    for part in path:
        key: Hashable = part
        is_key = False
        if isinstance(node, Mapping) and part not in node:
            key = next((k for k in node if str(k) == part), part)
            is_key = key is not part
        real.append(key)
        node = node.get(key) if isinstance(node, Mapping) else (
            node[part] if isinstance(node, list) and isinstance(part, int)
            and 0 <= part < len(node) else None)
    return tuple(real), is_key


def _path_text(path: tuple[str | int, ...]) -> str:
    """Where in the template: ``message.game_date``, ``message.ids[0]``."""
    text = "message"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
