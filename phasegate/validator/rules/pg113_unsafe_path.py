"""PG113 unsafe-path: a path in the registry is absolute, leaves the root, or is not a file.

The validator runs on pull requests: a registry is untrusted input. Every
path it names (``generate``, ``references.code``, ``references.files``,
``canary.calendar``) is relative to the repository root and stays inside it
after symlinks are resolved; ``.git`` is never read or written. A referenced
file or calendar must be a regular file (directories in ``references.code``
are fine; what they hold must be regular files). A path that breaks this is
never read or written, and no suppression can silence it.

Failing::

    generate:
      - {path: /proc/self/environ, format: json}
    references:
      files:
        - {path: ../outside/creds.json, select: "auths.*.auth", kind: processor}

Passing::

    generate:
      - {path: canary/expected.json, format: json}
    references:
      files:
        - {path: config/workflows.yaml, select: "scrapers.*.processor_name", kind: processor}
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from phasegate.registry.confine import lexical_problem
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG113", "unsafe-path", Severity.ERROR,
    "A path in the registry is absolute, leaves the root (also through a symlink), or is not "
    "a regular file.",
)


def declared_paths(ctx: RuleContext) -> Iterator[tuple[tuple[Hashable, ...], str, str]]:
    """(where, field, path) of every path the registry declares."""
    registry = ctx.registry
    for index, target in enumerate(registry.generate):
        yield ("generate", index, "path"), "generate", target.path
    for index, code in enumerate(registry.references.code):
        yield ("references", "code", index), "references.code", code
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
