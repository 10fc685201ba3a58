"""Run every rule over a registry file: loading, checking, nothing else."""

from __future__ import annotations

from pathlib import Path

from registry.loading import LoadedRegistry, load_registry
from validator.context import RuleContext
from validator.findings import Finding
from validator.rules import LOADING_RULES, REGISTRY_RULES, checks


def check_loaded(loaded: LoadedRegistry) -> list[Finding]:
    """Findings for an already loaded registry, sorted by place."""
    ctx = RuleContext(loaded)
    findings = [f for check in checks(LOADING_RULES) for f in check(ctx)]
    if loaded.registry is not None:
        findings.extend(f for check in checks(REGISTRY_RULES) for f in check(ctx))
    return sorted(set(findings))


def check_registry(path: Path, display_path: str | None = None) -> list[Finding]:
    """Findings for the registry at ``path``.

    Raises :class:`registry.yaml_loader.UnreadableFile` when it cannot be read.
    """
    return check_loaded(load_registry(path, display_path))
