"""PG202 copied-expectation (warning): Code holds a literal collection equal to a transition's
expected or required set.

Source code holds a literal list, tuple or set of strings, or a flag map (a
dict whose keys are names and whose values are all literal booleans, numbers
or None), whose registry processor names (canonical names or aliases) are
exactly a transition's (or a mode's) expected or required set. It is right
today, but it is a copy: the next registry change leaves it behind (then it
is PG208 drifted-copy). Import the set from the module `phasegate generate`
writes instead. A dict that maps names to anything else (a routing table),
an `__all__` list and a literal with fewer than three registry names are
not considered. Generated files are not scanned.

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
transitions:
  phase2_to_phase3: {from_phase: 2, to_phase: 3, collection: phase2_completion}
references:
  code: [monitoring]
```

```python
# file: monitoring/check.py
EXPECTED = ["p2_gamebook", "p2_boxscores", "p2_odds"]
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
ROUTES = {"p2_gamebook": print, "p2_boxscores": print, "p2_odds": print}
__all__ = ["EXPECTED", "ROUTES"]
```

```console
$ phasegate generate
```
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from phasegate.registry.semantics import expected_set, required_set
from phasegate.validator.context import Rule, SourceContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.scan import FileScan, NameContainer

RULE = Rule.from_doc(__doc__, Severity.WARNING)
MIN_NAMES = 3  # a literal with fewer registry names is not a copy of a set


@dataclass(frozen=True)
class ExpectationSet:
    """One distinct expected or required set, with every place the registry defines it."""

    names: frozenset[str]
    labels: tuple[str, ...]  # "phase2_to_phase3 expected", "phase2_to_phase3 mode late required"
    constant: str  # what to import from the generated module for the first label


def expectation_sets(ctx: SourceContext) -> list[ExpectationSet]:
    """Every transition's and mode's expected and required set, identical sets merged."""
    aliases = ctx.workspace.vocabulary.aliases
    found: dict[frozenset[str], tuple[list[str], str]] = {}
    for t_name, transition in ctx.transitions():
        for m_name, mode in ctx.modes_of(transition):
            where = f"{t_name} mode {m_name}" if m_name else t_name
            for field_name, names in (
                ("expected", expected_set(ctx.registry, transition, mode, ctx.enabled)),
                ("required", required_set(ctx.registry, transition, mode, ctx.enabled)),
            ):
                canonical = frozenset(aliases.get(n, n) for n in names)
                if m_name:
                    constant = f"EXPECTATIONS['transitions'][{t_name!r}]"
                else:
                    constant = f"{field_name.upper()}_PROCESSORS[{t_name!r}]"
                labels, _ = found.setdefault(canonical, ([], constant))
                label = f"{where} {field_name}"
                if label not in labels:
                    labels.append(label)
    return [ExpectationSet(names, tuple(labels), constant)
            for names, (labels, constant) in found.items()]


def considered(ctx: SourceContext) -> Iterator[tuple[FileScan, NameContainer]]:
    """Literals PG202 and PG208 judge: strings or flag maps, not ``__all__``, 3+ names."""
    for scan in ctx.workspace.scans:
        for container in scan.containers:
            if (container.literal and container.target != "__all__"
                    and len(container.names) >= MIN_NAMES):
                yield scan, container


def generated_module(ctx: SourceContext) -> str | None:
    """The import path of the registry's generated Python module, if it has one."""
    for target in ctx.registry.generate:
        if target.format == "python":
            return target.path.removesuffix(".py").replace("/", ".").replace("\\", ".")
    return None


def check(ctx: SourceContext) -> Iterator[Finding]:
    sets = expectation_sets(ctx)
    module = generated_module(ctx)
    for scan, container in considered(ctx):
        names = frozenset(container.names)
        for match in sets:
            if match.names != names:
                continue
            constant = match.constant.split("[", 1)[0]
            source = (f"`from {module} import {constant}` ({match.constant})" if module else
                      "the Python module `phasegate generate` writes (add a python target "
                      "under generate:)")
            yield ctx.report_file(
                RULE, scan.path, container.line, container.column,
                f"this {container.kind} is a copy of {' and '.join(match.labels)} "
                f"({len(names)} processors); it will drift when the registry changes: "
                f"import it from the generated module instead: {source}", match.labels[0])
            break
