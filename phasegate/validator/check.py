"""Run every rule: load the registry, read the workspace, check, apply suppressions."""

from __future__ import annotations

from pathlib import Path

from phasegate.progress import Report
from phasegate.registry.loading import LoadedRegistry
from phasegate.validator.context import RuleContext, SourceContext
from phasegate.validator.findings import Finding
from phasegate.validator.rules import LOADING_RULES, REGISTRY_RULES, SOURCE_RULES, checks
from phasegate.validator.suppression import apply_suppressions, find_suppressions


def check_loaded(loaded: LoadedRegistry, root: Path | None = None,
                 processes: int | None = None, progress: Report | None = None) -> list[Finding]:
    """Findings for an already loaded registry, sorted by place.

    With ``root``, everything the registry declares outside itself (source
    code, referenced files, generated artifacts) is read and checked too.
    """
    ctx = RuleContext(loaded)
    findings = [f for check in checks(LOADING_RULES) for f in check(ctx)]
    suppressions = {loaded.path: find_suppressions(loaded.document.text)}
    if loaded.registry is not None:
        if root is not None:  # read first: PG113 reports the paths the reading refused
            from phasegate.validator.workspace import read_workspace

            ctx.workspace = read_workspace(loaded.registry, root, loaded.path,
                                           loaded.document.text, processes, progress)
            suppressions.update(ctx.workspace.suppressions)
        findings.extend(f for check in checks(REGISTRY_RULES) for f in check(ctx))
        if ctx.workspace is not None:
            source = SourceContext(loaded, ctx.workspace)
            findings.extend(f for check in checks(SOURCE_RULES) for f in check(source))
    generated = ({state.expected.path for state in ctx.workspace.artifacts}
                 if ctx.workspace is not None else set())
    return apply_suppressions(sorted(set(findings)), suppressions,
                              never_in={loaded.path, *generated})

