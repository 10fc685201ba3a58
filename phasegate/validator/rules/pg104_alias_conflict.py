"""PG104 alias-conflict: An alias is claimed twice, or equals another processor's name.

An alias is claimed by two processors (or twice by one), or equals another
processor's name. A reported name must resolve to exactly one processor, or
completions count for the wrong one.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_odds_game_lines: {phase: 2, aliases: [OddsProcessor]}
  p2_odds_player_props: {phase: 2, aliases: [OddsProcessor]}
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_odds_game_lines: {phase: 2, aliases: [OddsGameLinesProcessor]}
  p2_odds_player_props: {phase: 2, aliases: [OddsApiPropsProcessor]}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    processors = ctx.registry.processors
    owner: dict[str, tuple[str, tuple[str, str, str, int]]] = {}
    for p_name, processor in processors.items():
        # outputs (table names) are names of their processor too; one processor may repeat one
        claims = [*(("aliases", i, a) for i, a in enumerate(processor.aliases)),
                  *(("outputs", i, o) for i, o in enumerate(processor.outputs))]
        for field, index, alias in claims:
            where = ("processors", p_name, field, index)
            what = "alias" if field == "aliases" else "output"
            if alias in processors and alias != p_name:
                yield ctx.report(
                    RULE, where,
                    f"{what} {alias!r} of {p_name} is the name of another processor; a report "
                    f"under it would count for {alias}; remove or rename the {what}",
                    alias,
                )
            elif alias in owner:
                first, first_where = owner[alias]
                if first == p_name and field == "outputs":
                    continue
                line = ctx.at(first_where).line
                claim = "again" if first == p_name else f"already by {first} (line {line})"
                yield ctx.report(
                    RULE, where,
                    f"{what} {alias!r} is claimed {claim}; each reported name must belong to "
                    "exactly one processor",
                    alias,
                )
            else:
                owner[alias] = (p_name, where)
