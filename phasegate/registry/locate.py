"""Which registry a command reads, and loading it for a command: the I/O edge of the CLI.

``--registry PATH``, else ``$PHASEGATE_REGISTRY`` (relative to the root), else
``registry/processors.yaml`` under ``--root``. A registry inside the root
that is a symlink out of it is refused (a pull request can commit one); a
registry named outside the root with ``--registry`` is the user's choice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from phasegate.registry.confine import is_within
from phasegate.registry.loading import LoadedRegistry, load_registry
from phasegate.registry.yaml_loader import UnreadableFile
from phasegate.usage import UsageError

DEFAULT_REGISTRY = Path("registry") / "processors.yaml"


def registry_path(registry: Path | None, root: Path, environ: Mapping[str, str]) -> Path:
    if not root.is_dir():
        raise UsageError(f"--root {root}: not a directory")
    if registry is not None:
        return registry
    from_env = environ.get("PHASEGATE_REGISTRY")
    if from_env:
        path = Path(from_env)
        return path if path.is_absolute() else root / path
    return root / DEFAULT_REGISTRY


def shown_path(path: Path, root: Path) -> str:
    """Paths in findings: relative to the root when inside it, as CI annotations want."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def checked_path(registry: Path | None, root: Path, environ: Mapping[str, str],
                 ) -> tuple[Path, str]:
    """The registry's path and how findings show it; UsageError when it cannot be read."""
    path = registry_path(registry, root, environ)
    shown = shown_path(path, root)
    if not path.exists():
        raise UsageError(f"{shown}: no such file (give --registry PATH or --root DIR)")
    base = root.resolve()
    if is_within(Path(os.path.abspath(path)), base) and not is_within(path.resolve(), base):
        raise UsageError(f"{shown}: resolves outside the repository root through a symlink; "
                         "not read")
    return path, shown


def load_for_command(registry: Path | None, root: Path,
                     environ: Mapping[str, str]) -> LoadedRegistry:
    """The registry a command names, loaded (maybe invalid); unreadable is a UsageError."""
    path, shown = checked_path(registry, root, environ)
    try:
        return load_registry(path, shown)
    except UnreadableFile as error:
        raise UsageError(str(error)) from error
