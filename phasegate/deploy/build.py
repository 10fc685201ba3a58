"""``phasegate deploy build DIR``: self-contained function sources, what the plan deploys.

Until phasegate is on the package index, ``requirements.txt``'s
``phasegate[gcp]==X`` cannot be installed by Cloud Build; so each deployable
folder (``orchestrator/``, ``canary/``) is copied with phasegate's runtime
vendored beside ``main.py`` and a ``requirements.txt`` that lists phasegate's
dependencies instead of phasegate. The build refuses to start from a registry
with errors or stale generated files (the deployed function would serve old
expectations), never writes into the sources, never follows a symlink out of
the root, and only replaces folders that an earlier build wrote.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import phasegate
from phasegate import __version__
from phasegate.deploy.requirements import (
    BASE,
    SourceError,
    declared_ranges,
    distributions,
    read_source,
    requirements_text,
    third_party_imports,
)

FOLDERS = ("orchestrator", "canary")
MARKER = ".phasegate-build"  # in every folder a build wrote: only those are ever replaced
SKIPPED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
HEADER = ("# Written by `phasegate deploy build` (phasegate {version}): phasegate's runtime is\n"
          "# vendored in ./phasegate, so this lists its dependencies instead of phasegate.\n")


class BuildError(Exception):
    """The build cannot be made safely; the message says why and what to do."""


class StaleSources(BuildError):
    """The registry has errors, or a generated file in a folder does not match it."""


class BrokenSource(BuildError):
    """A Python file to deploy (a folder's own or phasegate's) cannot be read or parsed."""


def build(root: Path, registry_path: Path, out_dir: Path) -> list[str]:
    """Write ``out_dir/orchestrator`` and ``out_dir/canary``; the files written, relative.

    Raises :class:`BuildError` when ``out_dir`` is the root or inside a
    source folder, a source reaches outside the root, the registry has
    errors, a generated file in a folder is missing or stale, or a Python
    file does not parse (:class:`BrokenSource`, naming the file and line).
    """
    base = root.resolve(strict=True)
    out = out_dir.resolve()
    if _inside(Path(os.path.abspath(out_dir)), base) and not _inside(out, base):
        raise BuildError(f"{out_dir} is inside the root but resolves outside it (a committed "
                         "symlink?): nothing is written there")
    package = Path(phasegate.__file__).resolve().parent
    _refuse_unsafe_output(base, out, package)
    places = _check_generated(base, registry_path)
    for folder, place in places.items():
        if place in ("", "."):
            raise BuildError(f"the {folder}'s generated file sits at the repository root: a "
                             "deployable folder must be a folder of its own, never the root")
    vendored = _tree_files(package, package, "the phasegate package")
    ranges = declared_ranges()
    folders = {folder: _tree_files(base / places[folder], base, "the root")
               for folder in FOLDERS}
    requirements: dict[str, str] = {}
    for folder, sources in folders.items():  # every refusal before anything is written
        if "main.py" not in sources:
            raise BuildError(f"{places[folder]}/main.py is missing: nothing to deploy "
                             "(`phasegate init` creates it)")
        _check_replaceable(out / folder)
        requirements[folder] = _requirements(sources, package, places[folder], ranges)
    written: list[str] = []
    for folder, sources in folders.items():
        written += [f"{folder}/{name}" for name in
                    _write_folder(out / folder, sources, vendored, requirements[folder])]
    return sorted(written)


def _own(sources: dict[str, Path]) -> dict[str, Path]:
    """The folder's files the build copies (its requirements.txt is rewritten instead)."""
    return {name: path for name, path in sources.items() if name != "requirements.txt"}


def _requirements(sources: dict[str, Path], package: Path, place: str,
                  ranges: dict[str, str]) -> str:
    """The folder's requirements.txt: what its code needs, and its own pins.

    Raises :class:`BrokenSource` naming the file (and line) that cannot be read or parsed.
    """
    own = _own(sources)

    def shown(name: str) -> str:
        return name if place == "." else f"{place}/{name}"

    try:
        python = {shown(name): read_source(path, shown(name)) for name, path in own.items()
                  if name.endswith(".py")}
        local = {name.split("/", 1)[0].removesuffix(".py") for name in own}
        modules = third_party_imports(python, package, local=local)
        existing = read_source(sources["requirements.txt"], shown("requirements.txt")) \
            if "requirements.txt" in sources else ""
    except SourceError as error:
        raise BrokenSource(f"{error}; the deployed function would not start: fix it, "
                           "then build again") from None
    needed = distributions(modules) | set(BASE)
    return requirements_text(needed, existing, ranges, HEADER.format(version=__version__))


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _in_git(path: Path, base: Path) -> bool:
    """Whether ``path`` lies in a ``.git`` folder below ``base`` (any spelling of its case)."""
    try:
        parts = path.relative_to(base).parts
    except ValueError:
        return False
    return any(part.lower() == ".git" for part in parts)


def _refuse_unsafe_output(root: Path, out: Path, package: Path) -> None:
    if out == root:
        raise BuildError(f"{out} is the repository root: the build would replace the "
                         "deployable folders themselves; choose another directory (build/)")
    for folder in FOLDERS:
        if _inside(out, root / folder):
            raise BuildError(f"{out} is inside the source folder {folder}/: the build would "
                             "copy itself into the function's source; choose a directory "
                             "outside orchestrator/ and canary/ (build/)")
    if _inside(out, package):
        raise BuildError(f"{out} is inside the phasegate package that the build vendors")


def _check_generated(root: Path, registry_path: Path) -> dict[str, str]:
    """The generated files in the deployable folders must match the registry.

    Returns where each deployable folder is, relative to the root: the folder of
    the ``python`` artifact is the orchestrator's and that of the ``json``
    artifact the canary's (``init --prefix`` puts them under another path).
    """
    from phasegate.generation import GenerationError, render_for_root
    from phasegate.registry.confine import Unsafe, inside, read_regular
    from phasegate.registry.generate import same_content
    from phasegate.registry.loading import load_registry
    from phasegate.registry.yaml_loader import UnreadableFile

    real = registry_path.resolve()
    shown = real.relative_to(root).as_posix() if _inside(real, root) else str(registry_path)
    try:
        loaded = load_registry(registry_path, shown)
    except UnreadableFile as error:
        raise BuildError(str(error)) from error
    if loaded.registry is None:
        raise StaleSources(f"{shown} has errors; run `phasegate validate`")
    try:
        artifacts = render_for_root(loaded.registry, shown, root)
    except GenerationError as error:
        raise BuildError(str(error)) from error
    places = dict(zip(FOLDERS, FOLDERS, strict=True))
    for target in loaded.registry.generate:
        folder = {"python": "orchestrator", "json": "canary"}.get(target.format)
        if folder is not None:
            places[folder] = target.path.rsplit("/", 1)[0] if "/" in target.path else "."
    for artifact in artifacts:
        if artifact.path.rsplit("/", 1)[0] not in places.values():
            continue
        try:
            path = inside(root, artifact.path)
        except Unsafe as error:
            raise BuildError(f"generate: {error}") from error
        if not path.exists():
            current = None
        else:
            try:
                current = read_regular(path).decode("utf-8")
            except (Unsafe, UnicodeDecodeError):
                current = ""
        if not same_content(artifact.text, current):
            state = "missing" if current is None else "stale"
            raise StaleSources(f"{artifact.path} is {state}; run `phasegate generate` first "
                             "(a function deployed from it would serve old expectations)")
    return places


def _tree_files(top: Path, confine: Path, where: str) -> dict[str, Path]:
    """Regular files under ``top`` by relative posix path; symlinks only to inside ``confine``.

    A file reached twice (through a symlink) is taken once; caches are skipped.
    """
    if not top.is_dir():
        raise BuildError(f"{top} is not a directory")
    files: dict[str, Path] = {}
    seen_dirs: set[Path] = set()

    def walk(directory: Path, relative: str) -> None:
        real = directory.resolve()
        if not _inside(real, confine):
            raise BuildError(f"{relative or directory} leads outside {where}; not followed")
        if _in_git(real, confine):
            raise BuildError(f"{relative or directory} leads into .git; never deployed")
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            name = f"{relative}/{entry.name}" if relative else entry.name
            path = Path(entry.path)
            if entry.is_dir():  # follows a symlink; walk() checks where it leads
                if entry.name not in SKIPPED_DIRS:
                    walk(path, name)
                continue
            if entry.name.endswith(SKIPPED_SUFFIXES) or entry.name == MARKER:
                continue
            target = path.resolve()
            if not _inside(target, confine):
                raise BuildError(f"{name} is a symlink leading outside {where}; not followed")
            if _in_git(target, confine):
                raise BuildError(f"{name} leads into .git; never deployed")
            if not entry.is_file():  # a FIFO, a socket, a broken link
                raise BuildError(f"{name} is not a regular file")
            if target not in files.values():
                files[name] = target

    walk(top, "")
    return files


def _check_replaceable(target: Path) -> None:
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise BuildError(f"{target} exists and is not a directory an earlier build wrote")
    if any(target.iterdir()) and not (target / MARKER).is_file():
        raise BuildError(f"{target} exists and was not written by `phasegate deploy build`; "
                         "remove it or choose another directory")


def _write_folder(target: Path, sources: dict[str, Path], vendored: dict[str, Path],
                  requirements: str) -> list[str]:
    """Stage the folder beside ``target``, then swap it in; the files written, relative."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        own = _own(sources)
        for name, path in own.items():
            _copy(path, staging / name)
        for name, path in vendored.items():
            _copy(path, staging / "phasegate" / name)
        (staging / "requirements.txt").write_text(requirements, encoding="utf-8")
        (staging / MARKER).write_text(f"phasegate {__version__}\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted([*own, *(f"phasegate/{name}" for name in vendored), "requirements.txt"])


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
