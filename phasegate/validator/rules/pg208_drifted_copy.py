"""PG208 drifted-copy: Code holds a literal collection that is almost a transition's expected or
required set.

Source code holds a literal list, tuple or set of strings, or a flag map,
that resembles a transition's (or a mode's) expected or required set but is
not equal to it: it shares at least half of its registry names with the
set, and at least three. This is a copy that drifted (the registry changed,
the copy did not). The message names each extra and each missing name with
its registry status, such as "holds p2_bdl_box_scores (disabled: ...) which
the set does not; lacks p2_odds (enabled)". Import the set from the module
`phasegate generate` writes instead (see PG202). Routing tables, `__all__`
lists and literals with fewer than three registry names are not considered.

Failing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
  p2_odds: {phase: 2}
  p2_injuries: {phase: 2}
  p2_bdl_box_scores: {phase: 2, enabled: false, disabled_reason: API retired}
transitions:
  phase2_to_phase3: {from_phase: 2, to_phase: 3, collection: phase2_completion}
references:
  code: [monitoring]
```

```python
# file: monitoring/check.py
EXPECTED = {"p2_gamebook": True, "p2_boxscores": True, "p2_odds": True,
            "p2_bdl_box_scores": True}
```

Passing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
  p2_odds: {phase: 2}
  p2_injuries: {phase: 2}
  p2_bdl_box_scores: {phase: 2, enabled: false, disabled_reason: API retired}
transitions:
  phase2_to_phase3: {from_phase: 2, to_phase: 3, collection: phase2_completion}
references:
  code: [monitoring]
generate:
  - {path: orchestrator/expected_processors.py, format: python}
```

```python
# file: monitoring/check.py
from orchestrator.expected_processors import EXPECTED_PROCESSORS

EXPECTED = EXPECTED_PROCESSORS["phase2_to_phase3"]
```

```console
$ phasegate generate
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import disabled_causes
from phasegate.validator.context import Rule, SourceContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.rules.pg202_copied_expectation import (
    MIN_NAMES,
    ExpectationSet,
    considered,
    expectation_sets,
    generated_module,
)

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def resembles(names: frozenset[str], candidate: frozenset[str]) -> bool:
    """Shares at least half of the literal's registry names with the set, and at least three."""
    shared = len(names & candidate)
    return names != candidate and shared >= MIN_NAMES and 2 * shared >= len(names)


def check(ctx: SourceContext) -> Iterator[Finding]:
    sets = expectation_sets(ctx)
    module = generated_module(ctx)
    for scan, container in considered(ctx):
        names = frozenset(container.names)
        if any(s.names == names for s in sets):
            continue  # an exact copy is PG202's
        close = [s for s in sets if resembles(names, s.names)]
        if not close:
            continue
        best = min(close, key=lambda s: (len(names ^ s.names), s.labels))
        yield ctx.report_file(
            RULE, scan.path, container.line, container.column,
            f"this {container.kind} is a drifted copy of {' and '.join(best.labels)}: "
            f"{_difference(ctx, container.names, best)}; import the set from "
            f"{f'`{module}`' if module else 'the module `phasegate generate` writes'} instead",
            best.labels[0])


def _difference(ctx: SourceContext, order: tuple[str, ...], target: ExpectationSet) -> str:
    extra = [n for n in order if n not in target.names]
    missing = sorted(target.names - set(order))
    parts = []
    if extra:
        parts.append(f"holds {_listed(ctx, extra)} which the set does not")
    if missing:
        parts.append(f"lacks {_listed(ctx, missing)}")
    return "; ".join(parts)


def _listed(ctx: SourceContext, names: list[str]) -> str:
    return ", ".join(f"{name} ({_status(ctx, name)})" for name in names)


def _status(ctx: SourceContext, name: str) -> str:
    """A processor's registry status: enabled, or disabled with the registry's reason."""
    if not ctx.enabled.get(name, True):
        reasons = [
            (cause.reason or "no reason given") if cause.name == name
            else f"{cause.kind} {cause.name}: {cause.reason or 'no reason given'}"
            for cause in disabled_causes(ctx.registry, name)]
        return f"disabled: {'; '.join(reasons) or 'no reason given'}"
    processor = ctx.registry.processors.get(name)
    if processor is not None and not processor.per_run_key:
        return "enabled, not per run key"
    return "enabled"
