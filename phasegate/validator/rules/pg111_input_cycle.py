"""PG111 input-cycle: Processors depend on each other in a cycle.

Processors depend on each other in a cycle, so none of them can run first.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p3_summary: {phase: 3, inputs: [p3_context]}
  p3_context: {phase: 3, inputs: [p3_summary]}
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p3_summary: {phase: 3}
  p3_context: {phase: 3, inputs: [p3_summary]}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle once, as found by depth-first search in registry order."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    found: list[list[str]] = []
    for root in graph:  # an explicit stack: an input chain of any length, no recursion
        if root in state:
            continue
        state[root] = 1
        stack, edges = [root], [iter(graph.get(root, ()))]
        while edges:
            for nxt in edges[-1]:
                if state.get(nxt) == 1:
                    found.append([*stack[stack.index(nxt):], nxt])
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append(nxt)
                    edges.append(iter(graph.get(nxt, ())))
                    break
            else:
                state[stack.pop()] = 2
                edges.pop()
    return found


def check(ctx: RuleContext) -> Iterator[Finding]:
    processors = ctx.registry.processors
    graph = {name: [i for i in p.inputs if i in processors] for name, p in processors.items()}
    for cycle in _cycles(graph):
        head, nxt = cycle[-2], cycle[-1]
        index = processors[head].inputs.index(nxt)
        yield ctx.report(
            RULE, ("processors", head, "inputs", index),
            f"input cycle {' -> '.join(cycle)}: none of these can run first; remove one input",
            head,
        )
