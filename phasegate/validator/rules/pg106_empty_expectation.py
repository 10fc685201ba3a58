"""PG106 empty-expectation: a transition or mode expects nothing.

An empty expected set is complete at once; the transition would trigger on
the first message (or never be checked at all).
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import expected_set
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule("PG106", "empty-expectation", Severity.ERROR, "A transition or mode expects nothing.")


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
