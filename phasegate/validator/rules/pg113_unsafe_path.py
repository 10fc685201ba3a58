"""PG113 unsafe-path: A path in the registry is absolute, leaves the root (also through a symlink),
or is not a regular file.

A path in the registry (`generate`, `references.code`, `references.files`,
`canary.calendar`) is absolute, leaves the repository root (with `..` or
through a symlink), points into `.git`, or names something that is not a
regular file (a FIFO, a device, a directory where a file is needed). The
validator runs on pull requests, so a registry is untrusted input: such a
path is never read or written, and no suppression can silence the finding.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
generate:
  - {path: /proc/self/environ, format: json}
references:
  files:
    - {path: ../outside/creds.json, select: "auths.*.auth", kind: processor}
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
```
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from phasegate.registry.confine import lexical_problem
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def declared_paths(ctx: RuleContext) -> Iterator[tuple[tuple[Hashable, ...], str, str]]:
    """(where, field, path) of every path the registry declares."""
    registry = ctx.registry
    for index, target in enumerate(registry.generate):
        yield ("generate", index, "path"), "generate", target.path
    for index, code in enumerate(registry.references.code):
        if isinstance(code, str):
            yield ("references", "code", index), "references.code", code
            continue
        yield ("references", "code", index, "path"), "references.code", code.path
        for number, glob in enumerate(code.exclude):
            yield ("references", "code", index, "exclude", number), "references.code exclude", glob
    for index, glob in enumerate(registry.references.exclude):
        yield ("references", "exclude", index), "references.exclude", glob
    for index, reference in enumerate(registry.references.files):
        yield ("references", "files", index, "path"), "references.files", reference.path
    if registry.canary.calendar is not None:
        yield ("canary", "calendar"), "canary.calendar", registry.canary.calendar


def check(ctx: RuleContext) -> Iterator[Finding]:
    reported: set[tuple[Hashable, ...]] = set()
    for where, field, path in declared_paths(ctx):
        problem = lexical_problem(path)
        if problem:
            reported.add(where)
            yield ctx.report(RULE, where, f"{field} path {path!r} {problem}; it is never read "
                             "or written", path)
    if ctx.workspace is None:
        return
    for item in ctx.workspace.unsafe:
        if item.where not in reported:
            yield ctx.report(RULE, item.where, f"{item.message}; it is never read or written",
                             item.subject)
