"""``phasegate init``: scaffold a pipeline's four folders, its hook and its CI workflow.

Creates only what is missing and never overwrites a file; for a
``.pre-commit-config.yaml`` or workflow that exists it prints the lines to add.
Every path it would write is resolved (symlinks followed) and checked to stay
inside DIR before anything is written, and files are created with
``O_EXCL | O_NOFOLLOW``, so a symlink never leads a write out of DIR. Bad input
is a message on ``err`` and exit 2, never a traceback.

With ``--from-code PATH...`` the registry is proposed from the code under those
paths (:mod:`phasegate.scaffold.from_code`); an existing registry is still kept,
and the proposals are printed for a person to add instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from string import Template
from typing import TYPE_CHECKING, TextIO

from phasegate import __version__
from phasegate.scaffold import templates
from phasegate.usage import UsageError
from phasegate.validator.baseline import render as baseline_text

if TYPE_CHECKING:
    from phasegate.scaffold.from_code import Proposal

EXIT_OK, EXIT_USAGE = 0, 2

PRE_COMMIT = PurePosixPath(".pre-commit-config.yaml")
WORKFLOW = PurePosixPath(".github/workflows/phasegate.yml")
REGISTRY = PurePosixPath("registry/processors.yaml")
GENERATED = (  # what the starter registry lists under `generate:`, relative to the prefix
    "orchestrator/expected_processors.py",
    "orchestrator/requirements.txt",
    "canary/expected.json",
    "canary/requirements.txt",
    "deploy/plan.sh",
    "deploy/canary-scheduler.json",
    "deploy/canary-monitoring.json",
)
# Where another phasegate setup is looked for: folders never searched, and how deep.
_NOT_SEARCHED = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env"})
_SEARCH_DEPTH = 6  # folders below DIR holding registry/processors.yaml at most
_SEARCH_FOLDERS = 20_000  # folders looked into at most: a huge tree is not walked whole
_REGISTRY_ARG = re.compile(r"--registry(?:\s*,\s*|\s*=\s*|\s+)['\"]?([^\s,\]'\"]+)")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
_PREFIX_PART = re.compile(r"\.?[A-Za-z0-9_][A-Za-z0-9._-]*")


class Refused(Exception):
    """Bad input or an unsafe path: exit 2 with this message, nothing (more) written."""


@dataclass(frozen=True)
class Planned:
    path: PurePosixPath  # relative to DIR
    text: str
    markers: tuple[str, ...] = ()  # when it exists and holds all of these, nothing to add
    to_add: str = ""  # when it exists without them: what to add, and where
    where: str = ""


def init_command(directory: Path, *, pipeline: str | None, prefix: str | None,
                 out: TextIO, err: TextIO, from_code: Sequence[str] | None = None) -> int:
    """Scaffold a pipeline in ``directory``; returns the exit code (0, 2, or generation's).

    ``from_code``: paths inside ``directory`` whose code the registry is proposed from.
    """
    report: list[str] = []  # the --from-code summary, printed last
    try:
        code = _init(Path(directory), pipeline, prefix, out, err, from_code, report)
    except (Refused, UsageError) as error:
        print(f"phasegate: error: {error}", file=err)
        return EXIT_USAGE
    for line in report:
        print(line, file=out)
    return code


def sanitize_pipeline_name(text: str) -> str:
    """``text`` as a pipeline name: lowercase ``[a-z0-9-]``, starting with a letter."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not name:
        return "pipeline"
    return name if name[0].isalpha() else f"pipeline-{name}"


def check_prefix(prefix: str | None) -> tuple[str, ...]:
    """The folders of ``--prefix PATH``, or :class:`Refused` when it could leave DIR."""
    if prefix is None:
        return ()
    if PurePosixPath(prefix).is_absolute() or PureWindowsPath(prefix).anchor:
        raise Refused(f"--prefix {prefix!r}: must be a relative path inside DIR")
    parts = [part for part in prefix.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise Refused(f"--prefix {prefix!r}: must stay inside DIR ('..' is not allowed)")
    if not parts:
        raise Refused(f"--prefix {prefix!r} names DIR itself; leave --prefix out instead")
    for part in parts:
        if not _PREFIX_PART.fullmatch(part):
            raise Refused(f"--prefix {prefix!r}: {part!r} is not a plain folder name "
                          "(use letters, digits, '.', '_' and '-')")
    return tuple(parts)


def _check_pipeline(name: str) -> str:
    wanted = sanitize_pipeline_name(name)
    if name != wanted:
        hint = f" (for example {wanted!r})" if name.strip() else ""
        raise Refused(f"--pipeline {name!r}: a pipeline name is lowercase letters, digits and "
                      f"'-', starting with a letter{hint}")
    return name


def _init(directory: Path, pipeline: str | None, prefix: str | None,
          out: TextIO, err: TextIO, from_code: Sequence[str] | None = None,
          report: list[str] | None = None) -> int:
    parts = check_prefix(prefix)
    if os.path.lexists(directory) and not directory.is_dir():
        raise Refused(f"{directory}: exists and is not a directory")
    root = _resolve(directory)
    name = _check_pipeline(pipeline) if pipeline is not None else sanitize_pipeline_name(
        root.name)
    base = PurePosixPath(*parts) if parts else PurePosixPath()
    registry = base / REGISTRY
    proposal = None
    if from_code is not None:  # read before anything is written: bad paths change nothing
        proposal = _propose(root, directory, base, from_code, err)
    planned = _plan(name, base, proposal)
    missing = [item for item in planned if not os.path.lexists(root / item.path)]
    generating = any(item.path == registry for item in missing)
    artifacts = [base / path for path in GENERATED]
    existing = [path for path in artifacts if os.path.lexists(root / path)]
    if generating and not existing:
        to_check = [item.path for item in missing] + artifacts
    else:
        to_check = [item.path for item in missing]
    for path in to_check:
        _check_inside(root, directory, path)
    for warning in other_setups(root, registry):
        print(f"phasegate: warning: {warning}", file=err)

    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise Refused(f"{directory}: cannot create: {error.strerror}") from error
    outcome = "written"  # of the registry: written | printed (to add by hand) | present
    for item in planned:
        if item in missing and _create(root, directory, item):
            print(f"created {item.path}", file=out)
        else:
            _report_kept(root, item, out)
            if item.path == registry:
                generating = False
                outcome = "printed" if item.to_add and not _holds_all(root, item) else "present"
    if proposal is not None and report is not None:
        from phasegate.scaffold.from_code import summary

        report.extend(summary(proposal, registry.as_posix(), outcome))

    if not generating:
        return EXIT_OK
    if existing:
        shown = ", ".join(path.as_posix() for path in existing)
        print(f"phasegate: warning: not generating the artifacts: it would overwrite {shown}; "
              f"run `phasegate generate{_registry_args(base)}` once they may be replaced",
              file=err)
        return EXIT_OK
    code = _generate(root, registry, out, err)
    for path in artifacts:  # what generation wrote is created by this run too
        if (root / path).is_file():
            print(f"created {path}", file=out)
    return code


def other_setups(root: Path, registry: PurePosixPath) -> list[str]:
    """Phasegate setups already in ``root`` whose registry is not ``registry``.

    Found two ways: the registry that the phasegate hooks of an existing
    ``.pre-commit-config.yaml`` pass (``--registry``; without it the default),
    and any ``registry/processors.yaml`` under ``root`` (symlinks not followed,
    hidden and dependency folders skipped, the depth bounded).
    """
    found: dict[str, str] = {}
    for path in _hook_registries(root):
        found.setdefault(path, f"the phasegate hooks in {PRE_COMMIT} validate {path}")
    for path in _registries_under(root):
        found.setdefault(path, f"{path} exists")
    wanted = registry.as_posix()
    warnings = []
    for path, how in sorted(found.items()):
        if path == wanted:
            continue
        parent = PurePosixPath(path).parent.parent
        again = (f"--prefix {parent.as_posix()}" if parent.parts else "no --prefix")
        warnings.append(f"another phasegate setup is already here ({how}); this run scaffolds "
                        f"one at {wanted}. To work on the existing one, run init with {again}")
    return warnings


def _hook_registries(root: Path) -> list[str]:
    """The registries an existing pre-commit config's phasegate hooks pass, if it has any."""
    target = root / PRE_COMMIT
    try:
        if not _resolve(target).is_relative_to(root) or not target.is_file():
            return []
        with target.open("rb") as handle:
            text = handle.read(1024 * 1024).decode("utf-8", errors="replace")
    except (OSError, Refused):
        return []
    if "phasegate-validate" not in text and "phasegate-generate-check" not in text:
        return []
    named = [match.group(1) for match in _REGISTRY_ARG.finditer(text)]
    return [str(PurePosixPath(path)) for path in named] or [REGISTRY.as_posix()]


def _registries_under(root: Path) -> list[str]:
    """``*/registry/processors.yaml`` files under ``root``, as paths relative to it."""
    found: list[str] = []
    for looked, (folder, subfolders, files) in enumerate(os.walk(root), 1):
        here = Path(folder)
        depth = len(here.relative_to(root).parts)
        subfolders[:] = [] if depth >= _SEARCH_DEPTH or looked > _SEARCH_FOLDERS else sorted(
            name for name in subfolders
            if not name.startswith(".") and name not in _NOT_SEARCHED)
        if here.name == REGISTRY.parent.name and REGISTRY.name in files:
            found.append((here / REGISTRY.name).relative_to(root).as_posix())
    return found


def _propose(root: Path, directory: Path, base: PurePosixPath, from_code: Sequence[str],
             err: TextIO) -> Proposal:
    """The registry proposed from ``from_code``; what was skipped is a warning on ``err``."""
    from phasegate.scaffold.from_code import proposal_from_code

    own = frozenset((base / path).as_posix() for path in (
        REGISTRY, "registry/schema.json", "validator/baseline.json", *GENERATED)) | {
        PRE_COMMIT.as_posix(), WORKFLOW.as_posix()}
    proposal, skipped = proposal_from_code(root, directory, from_code, own)
    for message in skipped:
        print(f"phasegate: warning: --from-code: {message}", file=err)
    return proposal


def _registry_plan(path: PurePosixPath, starter: str, proposal: Proposal | None) -> Planned:
    """The starter registry, or (``--from-code``) the one proposed, checked against the schema.

    An existing registry is never touched: the proposals are printed to add by hand,
    unless it already names every proposed entry.
    """
    if proposal is None or proposal.empty:
        return Planned(path, starter)
    from phasegate.registry.loading import load_registry_text
    from phasegate.scaffold.from_code import render_additions, render_registry

    text = render_registry(starter, proposal)
    problems = load_registry_text(text, path.as_posix()).problems
    if problems:  # a bug here must never leave a registry that fails PG001-PG003
        first = problems[0]
        raise Refused(f"internal error: the proposed registry would not load "
                      f"({first.position.line}:{first.position.column}: {first.message}); "
                      "please report it, and run init without --from-code meanwhile")
    return Planned(path, text, tuple(f"{n}:" for n in proposal.names()) or ("scrapers:",),
                   render_additions(proposal),
                   "the entries you confirm (proposed from code, each marked `# review:`)")


def _plan(name: str, base: PurePosixPath, proposal: Proposal | None = None) -> list[Planned]:
    prefix = f"{base.as_posix()}/" if base.parts else ""
    registry_args = _registry_args(base)
    hook_args = (f"\n        args: [--registry, {(base / REGISTRY).as_posix()}]"
                 if base.parts else "")
    # validate fails only on findings not in the baseline (empty at first: findings in code
    # found later can be accepted with --update-baseline; the registry's never)
    action_with = (f"\n    with:\n      registry: {(base / REGISTRY).as_posix()}"
                   if base.parts else "")
    validate_hook_args = ", ".join(
        ([f"--registry, {(base / REGISTRY).as_posix()}"] if base.parts else [])
        + [f"--baseline, {prefix}validator/baseline.json"])
    values = {
        "pipeline": name,
        "pipeline_yaml": f'"{name}"' if name in _YAML_WORDS else name,
        "prefix": prefix,
        "version": __version__,
        "registry_args": registry_args,
        "hook_args": hook_args,
        "validate_hook_args": validate_hook_args,
        "action_with": action_with,
    }

    def fill(template: str, **extra: str) -> str:
        return Template(template).substitute(values, **extra)

    entry = fill(templates.PRE_COMMIT_ENTRY)
    steps = fill(templates.WORKFLOW_STEPS)
    registry_marker = (f"{(base / REGISTRY).as_posix()}",) if base.parts else ()
    return [
        _registry_plan(base / REGISTRY, fill(templates.REGISTRY), proposal),
        Planned(base / "registry/schema.json", _schema_text()),
        Planned(base / "orchestrator/main.py", templates.ORCHESTRATOR_MAIN),
        Planned(base / "canary/main.py", templates.CANARY_MAIN),
        Planned(base / "validator/README.md", fill(templates.VALIDATOR_README)),
        Planned(base / "validator/baseline.json", baseline_text([])),
        Planned(PRE_COMMIT, fill(templates.PRE_COMMIT, entry=entry),
                ("phasegate-validate", "phasegate-generate-check", *registry_marker),
                entry, "under its `repos:`"),
        Planned(WORKFLOW, fill(templates.WORKFLOW, steps=steps),
                ("phasegate validate", "phasegate generate --check", *registry_marker),
                steps, f"to a job's steps, after installing phasegate {__version__}"),
    ]


def _registry_args(base: PurePosixPath) -> str:
    return f" --registry {(base / REGISTRY).as_posix()}" if base.parts else ""


def _schema_text() -> str:
    try:
        return resources.files("phasegate.registry").joinpath("schema.json").read_text(
            encoding="utf-8")
    except (OSError, ModuleNotFoundError) as error:
        raise Refused(f"cannot read phasegate's registry schema: {error}") from error


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
        raise Refused(f"{path}: cannot resolve: {error}") from error


def _check_inside(root: Path, directory: Path, relative: PurePosixPath) -> None:
    """Refuse when writing ``relative`` would leave ``root`` or cross a non-directory."""
    target = root / relative
    resolved = _resolve(target)
    if not resolved.is_relative_to(root):
        raise Refused(f"{relative}: resolves to {resolved}, outside {directory}; "
                      "refusing to write there (is a folder a symlink?)")
    for ancestor in reversed(target.parents):
        if ancestor == root or not ancestor.is_relative_to(root):
            continue
        if os.path.lexists(ancestor) and not ancestor.is_dir():
            shown = ancestor.relative_to(root).as_posix()
            raise Refused(f"{shown}: exists and is not a directory, so {relative} cannot be "
                          "created; move it or use --prefix PATH")


def _create(root: Path, directory: Path, item: Planned) -> bool:
    """Write a new file; False when it appeared meanwhile (then it is kept, not replaced)."""
    target = root / item.path
    _check_inside(root, directory, item.path)  # again, right before writing
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _check_inside(root, directory, item.path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(target, flags, 0o666)
    except FileExistsError:
        return False
    except OSError as error:
        raise Refused(f"{item.path}: cannot create: {error.strerror}") from error
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(item.text)
    except OSError as error:
        raise Refused(f"{item.path}: cannot write: {error.strerror}") from error
    return True


def _report_kept(root: Path, item: Planned, out: TextIO) -> None:
    if not item.to_add or _holds_all(root, item):
        print(f"kept {item.path} (exists)", file=out)
        return
    print(f"kept {item.path} (exists); add {item.where}:", file=out)
    out.write(item.to_add)


def _holds_all(root: Path, item: Planned) -> bool:
    """Whether an existing file inside DIR already has every marker (read, never followed out)."""
    target = root / item.path
    try:
        if not _resolve(target).is_relative_to(root) or not target.is_file():
            return False
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, Refused):
        return False
    return all(marker in text for marker in item.markers)


def _generate(root: Path, registry: PurePosixPath, out: TextIO, err: TextIO) -> int:
    """Run ``phasegate generate`` on the new registry, showing it as the command line would.

    Artifacts name their registry in their header, so ``shown`` must be the
    path relative to DIR that ``phasegate generate --check`` will show in CI.
    """
    try:
        from phasegate.generation import generate
    except ImportError as error:
        print(f"phasegate: error: cannot generate the artifacts ({error}); the scaffold is in "
              "place: run `phasegate generate` with a phasegate that can", file=err)
        return EXIT_USAGE
    try:
        return int(generate(root / registry, root, check=False, out=out, err=err,
                            shown=registry.as_posix()))
    except Exception as error:  # noqa: BLE001 - init never ends in a traceback
        print(f"phasegate: error: generating the artifacts failed: "
              f"{type(error).__name__}: {error}", file=err)
        return EXIT_USAGE
