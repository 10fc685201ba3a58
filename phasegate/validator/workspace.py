"""Read everything outside the registry that the PG2xx rules check: the I/O edge.

Source files, referenced YAML/JSON files and generated artifacts are read
here (sources scanned in several processes when there are many), so the
rules themselves stay pure functions of what was read.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from phasegate.progress import Report
from phasegate.registry.confine import Unsafe, inside, is_within, lexical_problem, read_regular
from phasegate.registry.generate import Artifact, RegionError
from phasegate.registry.models import FileReference, Registry
from phasegate.registry.yaml_loader import LoadProblem, Position, UnreadableFile, load_file
from phasegate.validator.globs import is_glob, literal_prefix, matches, matches_any, normalized
from phasegate.validator.scan import FileScan, scan_python
from phasegate.validator.suppression import Suppression, find_suppressions
from phasegate.validator.vocabulary import Vocabulary, build_vocabulary

SKIP_DIRS = frozenset({"__pycache__", ".git", ".hg", ".venv", "venv", "node_modules", "build",
                       "dist", ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                       "site-packages"})
PARALLEL_FROM_FILES = 400
PROGRESS_CHUNK = 100  # files scanned between two progress reports (one process)
"""Below this many files a pool costs more to start than it saves."""


@dataclass(frozen=True)
class ReferencedValue:
    """A name found at a ``references.files`` select path."""

    path: str
    line: int
    column: int
    value: str
    kind: str  # scraper | processor
    select: str
    enabled: bool | None = None  # the file's own flag for the name (``enabled:``), if read


@dataclass(frozen=True)
class Unscannable:
    """A declared reference that could not be checked, and where it is declared."""

    where: tuple[Hashable, ...]  # path into the registry
    message: str
    subject: str


@dataclass(frozen=True)
class ArtifactState:
    expected: Artifact
    actual: str | None  # None when the file is missing


@dataclass
class Workspace:
    vocabulary: Vocabulary
    scans: list[FileScan] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    values: list[ReferencedValue] = field(default_factory=list)
    artifacts: list[ArtifactState] = field(default_factory=list)
    unscannable: list[Unscannable] = field(default_factory=list)
    unsafe: list[Unscannable] = field(default_factory=list)  # PG113: never read or written
    file_problems: list[tuple[str, LoadProblem]] = field(default_factory=list)
    suppressions: dict[str, list[Suppression]] = field(default_factory=dict)


def read_workspace(
    registry: Registry, root: Path, registry_display: str, registry_text: str,
    processes: int | None = None, progress: Report | None = None,
) -> Workspace:
    """Read and scan everything the registry declares, relative to ``root``.

    ``progress`` hears (files scanned, files in all) as the scan goes.
    """
    workspace = Workspace(build_vocabulary(registry))
    workspace.suppressions[registry_display] = find_suppressions(registry_text)
    from phasegate.generation import GenerationError, render_for_root

    try:
        _check_calendar(registry, root)
        artifacts = render_for_root(registry, registry_display, root)
    except Unsafe as error:  # PG113: the calendar is never read; nothing can be compared
        artifacts = []
        workspace.unsafe.append(Unscannable(("canary", "calendar"), f"canary.calendar: {error}",
                                            registry.canary.calendar or ""))
    except GenerationError as error:
        artifacts = []
        subject = registry.canary.calendar if error.where[0] == "canary" else "generate"
        workspace.unscannable.append(Unscannable(
            error.where, f"{error}; generated artifacts were not compared", subject or ""))
    for index, artifact in enumerate(artifacts):
        try:
            target = inside(root, artifact.path)
        except Unsafe as error:
            workspace.unsafe.append(Unscannable(("generate", index, "path"),
                                                f"generate: {error}", artifact.path))
            continue
        current = _read_or_none(target)
        try:
            placed = artifact.placed(current)
        except RegionError as error:
            workspace.unscannable.append(Unscannable(
                ("generate", index, "path"), f"{artifact.path}: {error}; it was not compared",
                artifact.path))
            continue
        workspace.artifacts.append(ArtifactState(placed, current))
    generated = {artifact.path for artifact in artifacts}
    files = list(_python_files(registry, root, generated, workspace))
    _scan_sources(files, root, workspace, processes, progress)
    _read_file_references(registry, root, workspace)
    return workspace


def _check_calendar(registry: Registry, root: Path) -> None:
    """Unsafe when ``canary.calendar`` leaves the root or exists as something not a file."""
    if registry.canary.calendar is None:
        return
    target = inside(root, registry.canary.calendar)
    if target.exists() and not target.is_file():
        raise Unsafe(f"{registry.canary.calendar!r} is not a regular file")


def _read_or_none(path: Path) -> str | None:
    """An artifact's text; None when absent, unreadable or not a regular file (so stale)."""
    try:
        return read_regular(path).decode("utf-8")
    except (Unsafe, UnicodeDecodeError):
        return None


def _python_files(registry: Registry, root: Path, generated: set[str],
                  workspace: Workspace) -> Iterator[str]:
    """Every Python file to scan, relative to the root under its real path, once.

    A declared path or a glob's literal prefix that leaves the root is PG113
    and never read; a file found in a declared directory that is a symlink out
    of the root, or not a regular file, is PG206 and never read. Excludes (the
    entry's and the global ones) match the path as declared and the real path.
    """
    seen: set[str] = set()
    real_root = root.resolve()
    global_excludes = _safe(registry.references.exclude)
    for index, entry in enumerate(registry.references.code):
        where: tuple[Hashable, ...]
        if isinstance(entry, str):
            declared, where, excludes = entry, ("references", "code", index), global_excludes
        else:
            declared, where = entry.path, ("references", "code", index, "path")
            excludes = (*global_excludes, *_safe(entry.exclude))
        try:
            candidates = _declared_files(declared, root)
        except Unsafe as error:
            workspace.unsafe.append(Unscannable(where, f"references.code: {error}", declared))
            continue
        if candidates is None:
            workspace.unscannable.append(Unscannable(
                where, f"references.code names {declared!r}, which does not exist under "
                f"{root.as_posix()}; fix the path or remove it", declared))
            continue
        if not candidates and is_glob(declared):
            workspace.unscannable.append(Unscannable(
                where, f"references.code glob {declared!r} matches no Python file under "
                f"{root.as_posix()}; fix the glob or remove it", declared))
            continue
        for as_declared, path in candidates:
            if matches_any(excludes, as_declared):
                continue
            try:
                real = path.resolve()
            except (OSError, RuntimeError):  # a symlink loop, a name too long
                workspace.unscannable.append(Unscannable(
                    where, f"{path.name!r} cannot be resolved (a symlink loop?); not read",
                    path.name))
                continue
            shown = path.relative_to(real_root).as_posix() if is_within(
                path, real_root) else path.as_posix()
            if not is_within(real, real_root):
                workspace.unscannable.append(Unscannable(
                    where, f"{shown} is a symlink that leaves the repository root; not read",
                    shown))
                continue
            relative = real.relative_to(real_root).as_posix()
            if any(part.lower() == ".git" for part in real.relative_to(real_root).parts):
                workspace.unscannable.append(Unscannable(
                    where, f"{shown} leads into .git; not read", shown))
                continue
            if matches_any(excludes, relative):
                continue
            if relative not in generated and relative not in seen:
                seen.add(relative)
                yield relative


def _safe(globs: tuple[str, ...]) -> tuple[str, ...]:
    """The excludes that are relative and stay inside the root (PG113 reports the others)."""
    return tuple(glob for glob in globs if lexical_problem(glob) is None)


def _declared_files(declared: str, root: Path) -> list[tuple[str, Path]] | None:
    """(path as declared, path) of each Python file an entry names; None when it names nothing.

    A glob walks only its literal prefix, which is confined like any path
    (:class:`Unsafe` when it leaves the root); ``..`` anywhere in it is Unsafe.
    """
    if is_glob(declared):
        problem = lexical_problem(declared)
        if problem:
            raise Unsafe(f"{declared!r} {problem}")
        prefix = literal_prefix(declared)
        base = inside(root, prefix or ".")
        if not base.is_dir():
            return []
        found = [(_joined(prefix, path.relative_to(base).as_posix()), path)
                 for path in _walk(base, root)]
        return [(shown, path) for shown, path in found if matches(declared, shown)]
    base = inside(root, declared)
    if base.is_file():
        return [(normalized(declared), base)] if base.suffix == ".py" else []
    if base.is_dir():
        prefix = normalized(declared)
        return [(_joined(prefix, path.relative_to(base).as_posix()), path)
                for path in _walk(base, root)]
    return None


def _joined(prefix: str, relative: str) -> str:
    return f"{prefix}/{relative}" if prefix else relative


def _walk(base: Path, root: Path) -> Iterator[Path]:
    """Python files under ``base``, through directory symlinks that stay inside the root.

    A function folder's ``shared/`` is often a symlink to one shared folder: a
    glob through it must match, and the caller scans each file once, under its
    real path. A link back to a directory the walk is inside (a loop), a link
    that leaves the root, and a second link to a directory already walked
    through a link are not followed, so no tree of links multiplies the walk.
    """
    root = root.resolve()
    linked: set[Path] = set()
    for directory, subdirs, names in os.walk(base, followlinks=True):
        kept = []
        for name in sorted(subdirs):
            if name in SKIP_DIRS or name.endswith(".egg-info"):
                continue
            path = Path(directory) / name
            if path.is_symlink():
                target = Path(os.path.realpath(path))
                if (not is_within(target, root) or target in linked
                        or target in _real_ancestors(path, base)):
                    continue
                linked.add(target)
            kept.append(name)
        subdirs[:] = kept
        for name in sorted(names):
            if name.endswith(".py"):
                yield Path(directory) / name


def _real_ancestors(path: Path, base: Path) -> set[Path]:
    """The real directories ``path`` is inside, up to ``base``: a link to one is a loop."""
    found = set()
    current = path.parent
    while True:
        found.add(Path(os.path.realpath(current)))
        if current == base or current == current.parent:
            return found
        current = current.parent


def _scan_chunk(args: tuple[str, list[str], Vocabulary]) -> tuple[list[FileScan], set[str]]:
    """Scan files in one process; return only scans with findings-relevant content."""
    root, paths, vocabulary = args
    scans: list[FileScan] = []
    classes: set[str] = set()
    for relative in paths:
        try:
            text = read_regular(Path(root) / relative).decode("utf-8")
        except UnicodeDecodeError as error:
            scans.append(FileScan(relative, syntax_error=(1, 1, f"not UTF-8 text: {error.reason}")))
            continue
        except Unsafe as error:
            reason = str(error).split(": ", 1)[-1]
            scans.append(FileScan(relative, syntax_error=(1, 1, reason)))
            continue
        try:
            scan = scan_python(relative, text, vocabulary)
        except (RecursionError, MemoryError):
            scans.append(FileScan(relative, syntax_error=(
                1, 1, "too deeply nested (or too large) to scan")))
            continue
        classes |= scan.classes
        if scan.syntax_error or scan.strings or scan.containers or scan.suppressions:
            scan.classes = set()
            scans.append(scan)
    return scans, classes


def _scan_sources(files: list[str], root: Path, workspace: Workspace,
                  processes: int | None, progress: Report | None = None) -> None:
    workers = processes if processes is not None else min(os.cpu_count() or 1, 8)
    results: list[tuple[list[FileScan], set[str]]] = []
    if workers <= 1 or len(files) < PARALLEL_FROM_FILES:
        size = PROGRESS_CHUNK if progress else max(1, len(files))
        for start in range(0, len(files), size):
            results.append(_scan_chunk((str(root), files[start:start + size],
                                        workspace.vocabulary)))
            if progress:
                progress(min(start + size, len(files)), len(files))
    else:
        import multiprocessing  # imported only here: it costs ~25 ms at start-up
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, -(-len(files) // (workers * 4)))
        chunks = [(str(root), files[i:i + size], workspace.vocabulary)
                  for i in range(0, len(files), size)]
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        done = 0
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for chunk, result in zip(chunks, pool.map(_scan_chunk, chunks), strict=True):
                results.append(result)
                done += len(chunk[1])
                if progress:
                    progress(done, len(files))
    for scans, classes in results:
        workspace.scans.extend(scans)
        workspace.classes |= classes
    for scan in workspace.scans:
        if scan.suppressions:
            workspace.suppressions[scan.path] = scan.suppressions


def _read_file_references(registry: Registry, root: Path, workspace: Workspace) -> None:
    excludes = _safe(registry.references.exclude)
    for index, reference in enumerate(registry.references.files):
        where = ("references", "files", index)
        if matches_any(excludes, normalized(reference.path)):
            continue
        try:
            path = inside(root, reference.path)
        except Unsafe as error:
            workspace.unsafe.append(Unscannable((*where, "path"), f"references.files: {error}",
                                                reference.path))
            continue
        try:
            document = load_file(path, reference.path)
        except UnreadableFile as error:
            workspace.unscannable.append(Unscannable(
                (*where, "path"), f"references.files: {error}", reference.path))
            continue
        workspace.suppressions[reference.path] = find_suppressions(document.text)
        fatal = [p for p in document.problems if p.kind == "syntax"]
        if fatal:
            workspace.file_problems.extend((reference.path, p) for p in fatal)
            continue
        found = list(_select(document.data, reference.select.split("."), (), None))
        if not found:
            workspace.unscannable.append(Unscannable(
                (*where, "select"),
                f"select {reference.select!r} matches no value in {reference.path}; the file's "
                "layout may have changed, so its names are not being checked", reference.select))
            continue
        for selected in _names(found, reference):
            if isinstance(selected, str):
                workspace.unscannable.append(Unscannable((*where, "select"), selected,
                                                         reference.select))
                break
            value, value_path, flag = selected
            position: Position = document.positions.of(value_path, key=reference.key)
            workspace.values.append(ReferencedValue(
                reference.path, position.line, position.column, value, reference.kind,
                reference.select, flag))


_Match = tuple[object, tuple[Hashable, ...], object]  # node, its path, its parent


def _select(node: object, parts: list[str], path: tuple[Hashable, ...], parent: object,
            ) -> Iterator[_Match]:
    """Every node at a dotted path, with its parent; ``*`` matches every key or item."""
    if not parts:
        yield node, path, parent
        return
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
        for key in keys:
            yield from _select(node[key], rest, (*path, key), node)
    elif isinstance(node, list) and head == "*":
        for index, item in enumerate(node):
            yield from _select(item, rest, (*path, index), node)


def _names(found: list[_Match], reference: FileReference,
           ) -> Iterator[tuple[str, tuple[Hashable, ...], bool | None] | str]:
    """Names at the matched nodes, each with the file's own flag for it (``enabled:``).

    Yields a message instead when the file cannot be read as declared: ``key:
    true`` reaching list items, or a flag that is not a boolean.
    """
    shown = reference.select
    for node, path, parent in found:
        if reference.key:
            if not isinstance(parent, dict) or not path:
                yield (f"select {shown!r} with key: true reaches list items at "
                       f"{_dotted(path)} in {reference.path}; key: true reads mapping keys")
                return
            name = path[-1]
            if isinstance(name, str):
                flag = _flag(node, reference.enabled)
                if isinstance(flag, str):
                    yield f"{flag} at {_dotted(path)} in {reference.path}"
                    return
                yield name, path, flag
        elif isinstance(node, str):
            flag = _flag(parent, reference.enabled)
            if isinstance(flag, str):
                yield f"{flag} at {_dotted(path[:-1])} in {reference.path}"
                return
            yield node, path, flag
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    yield item, (*path, index), None


def _flag(holder: object, field_name: str | None) -> bool | None | str:
    """The boolean ``field_name`` of a mapping; None when absent; a message when not boolean."""
    if field_name is None or not isinstance(holder, dict) or field_name not in holder:
        return None
    value = holder[field_name]
    if isinstance(value, bool):
        return value
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"enabled field {field_name!r} is {type(value).__name__} {shown}, not true or false"


def _dotted(path: tuple[Hashable, ...]) -> str:
    return ".".join(str(part) for part in path) or "the top level"
