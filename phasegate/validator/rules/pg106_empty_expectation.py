"""PG106 empty-expectation: A transition or mode expects nothing.

A transition or one of its modes expects nothing: an empty list, or `all`
when the phase has no enabled per-run-key processor. An empty set is
complete at once, so it would trigger on any message.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_schedule: {phase: 2, per_run_key: false}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: all
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_schedule: {phase: 2, per_run_key: false}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: all
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import expected_set
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for t_name, transition in ctx.transitions():
        for m_name, mode in ctx.modes_of(transition):
            if expected_set(ctx.registry, transition, mode, ctx.enabled):
                continue
            base: tuple[str, ...] = ("transitions", t_name)
            if m_name is not None:
                base = (*base, "modes", m_name)
            expects = mode.expects if mode is not None else transition.expects
            what = f"transition {t_name}" + (f" mode {m_name}" if m_name else "")
            if expects == "all":
                detail = (f"expects all, but phase {transition.from_phase} has no enabled "
                          "per-run-key processor")
            else:
                detail = "expects an empty list"
            yield ctx.report(
                RULE, (*base, "expects"),
                f"{what} {detail}; it would count as complete at once; name the processors it "
                "waits for",
                t_name if m_name is None else m_name,
            )
