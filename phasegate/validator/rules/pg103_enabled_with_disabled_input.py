"""PG103 enabled-with-disabled-input: an enabled processor needs a disabled scraper or processor.

Its own flag says enabled, but it can never run; make that explicit with
``enabled: false`` and a ``disabled_reason``, or re-enable the input.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import describe_causes, disabled_causes
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG103", "enabled-with-disabled-input", Severity.ERROR,
    "An enabled processor needs a disabled scraper or processor.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    registry = ctx.registry
    for p_name, processor in registry.processors.items():
        if not processor.enabled:
            continue
        for index, name in enumerate(processor.inputs):
            known = name in registry.scrapers or name in registry.processors
            if not known or ctx.enabled.get(name, True):
                continue
            causes = describe_causes(disabled_causes(registry, name))
            yield ctx.report(
                RULE, ("processors", p_name, "inputs", index),
                f"{p_name} is enabled but its input {name} is not ({causes}); set "
                f"enabled: false with a disabled_reason on {p_name}, or re-enable {name}",
                name,
            )
