"""``phasegate generate``: write the runtime's artifacts, or compare them (``--check``).

Every format's renderer is a pure function of the registry and the inputs
read here (the canary calendar); this module is the I/O edge around them
and the one place that knows every format, including the deployment plan
that :mod:`phasegate.deploy` owns. The validator's PG201 renders through
:func:`render_for_root` too, so "stale" means the same in both commands.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from phasegate.registry.calendar import CalendarError, read_calendar
from phasegate.registry.confine import Unsafe, inside, read_regular
from phasegate.registry.generate import (
    EMBEDDABLE,
    MARKDOWN_HEADER,
    RENDERERS,
    Artifact,
    Inputs,
    RegionError,
    Renderer,
    embed_markers,
    is_generated,
    region,
    same_content,
)
from phasegate.registry.models import Registry

if TYPE_CHECKING:
    from phasegate.canary.evaluate import Settings

EXIT_CLEAN, EXIT_STALE, EXIT_USAGE = 0, 1, 2
MAX_ARTIFACT_BYTES = 8 * 1024 * 1024


class GenerationError(Exception):
    """An input of generation cannot be read, or an artifact cannot be rendered or written.

    ``where`` is the registry path the problem belongs to, for findings.
    """

    where: tuple[str, ...] = ("generate",)


def _render_plan(registry: Registry, source: str, inputs: Inputs) -> str:
    from phasegate.deploy.plan import render_plan  # only registries that list a plan pay for it

    return render_plan(registry, source, inputs)


def renderers() -> dict[str, Renderer]:
    """Every format a ``generate:`` entry may name."""
    return {**RENDERERS, "deploy-plan": _render_plan}


def read_inputs(registry: Registry, root: Path) -> Inputs:
    """What the renderers need besides the registry, read under ``root``."""
    calendar = registry.canary.calendar
    if calendar is None:
        return Inputs()
    try:
        return Inputs(calendar=read_calendar(root, calendar))
    except (CalendarError, OSError) as error:
        problem = GenerationError(f"canary.calendar: {error}")
        problem.where = ("canary", "calendar")
        raise problem from error


def render_for_root(registry: Registry, source: str, root: Path) -> list[Artifact]:
    """Every artifact under ``generate:``, rendered with the inputs found under ``root``."""
    from phasegate.registry.generate import render_all

    return render_all(registry, source, read_inputs(registry, root), renderers())


def canary_settings(registry: Registry, source: str, root: Path) -> Settings:
    """The command-line canary's settings: the canary JSON rendered now, calendar read under root.

    The same data the deployed canary reads from its expected.json, so the two cannot disagree.
    """
    import json

    from phasegate.canary.settings import settings_from
    from phasegate.registry.generate import render_json
    from phasegate.runtime import Expectations

    text = render_json(registry, source, read_inputs(registry, root))
    return settings_from(Expectations.from_data(json.loads(text), source))


def generate(registry_path: Path, root: Path, *, check: bool, out: TextIO, err: TextIO,
             shown: str | None = None) -> int:
    """Write (or with ``check`` compare) every artifact; exit code as the command line's.

    A registry with errors generates nothing and prints its findings. Files
    are written only when their content changes; the registry itself is
    never overwritten, and nothing is written outside ``root``.
    """
    from phasegate.registry.loading import load_registry
    from phasegate.registry.yaml_loader import UnreadableFile
    from phasegate.validator.check import check_loaded
    from phasegate.validator.reporters import REPORTERS

    shown = shown or registry_path.as_posix()
    try:
        loaded = load_registry(registry_path, shown)
    except UnreadableFile as error:
        print(f"phasegate: error: {error}", file=err)
        return EXIT_USAGE
    if loaded.registry is None:
        out.write(REPORTERS["text"](check_loaded(loaded)))
        print(f"phasegate: {shown} has errors; nothing generated", file=err)
        return EXIT_STALE
    try:
        artifacts = render_for_root(loaded.registry, shown, root)
    except GenerationError as error:
        print(f"phasegate: error: {error}", file=err)
        return EXIT_USAGE
    if not artifacts:
        print(f"phasegate: {shown} lists nothing under 'generate:'", file=err)
        return EXIT_CLEAN
    try:
        targets = _targets(artifacts, root, registry_path)
    except GenerationError as error:  # checked for every artifact before anything is written
        print(f"phasegate: error: generate: {error}; nothing written", file=err)
        return EXIT_USAGE
    stale = 0
    for rendered, (target, current) in zip(artifacts, targets, strict=True):
        artifact = rendered.placed(current)
        # (lexical_problem refuses control characters in generate paths: nothing here can
        # start a line of its own in CI output)
        if same_content(artifact.text, current):
            print(f"phasegate: {artifact.path} is up to date", file=err)
            continue
        if check:
            stale += 1
            before = [] if current is None else current.splitlines(keepends=True)
            out.writelines(difflib.unified_diff(
                before, artifact.text.splitlines(keepends=True),
                fromfile=f"a/{artifact.path}" if current is not None else "/dev/null",
                tofile=f"b/{artifact.path}"))
            print(f"phasegate: {artifact.path} is {'missing' if current is None else 'stale'}",
                  file=err)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(artifact.text, encoding="utf-8")
        except OSError as error:
            print(f"phasegate: error: {artifact.path}: cannot write: {error.strerror}", file=err)
            return EXIT_USAGE
        print(f"phasegate: wrote {artifact.path}", file=err)
    if stale:
        print(f"phasegate: {stale} artifact(s) out of date; run `phasegate generate`", file=err)
        return EXIT_STALE
    return EXIT_CLEAN


def _targets(artifacts: list[Artifact], root: Path, registry_path: Path,
             ) -> list[tuple[Path, str | None]]:
    """Where each artifact goes and what is there now; GenerationError if any is unsafe.

    Every target stays inside the root, is not the registry (not even through
    another spelling of its name or a hard link), is named once, and is either
    absent or a file phasegate generated: a file that carries no phasegate header
    is never overwritten, and never shown in a diff (it may hold a secret).
    """
    seen: dict[Path, str] = {}
    result: list[tuple[Path, str | None]] = []
    for artifact in artifacts:
        try:
            target = inside(root, artifact.path)
        except Unsafe as error:
            raise GenerationError(str(error)) from error
        if target in seen:
            raise GenerationError(f"{artifact.path} is listed twice (also as {seen[target]})")
        seen[target] = artifact.path
        if target.exists() and registry_path.exists() and os.path.samefile(target,
                                                                            registry_path):
            raise GenerationError(f"{artifact.path} is the registry itself")
        current = _read(target, artifact.path)
        if current is not None and artifact.format in EMBEDDABLE:
            try:
                spot = region(current, artifact.format)
            except RegionError as error:
                raise GenerationError(f"{artifact.path}: {error}; nothing written") from error
            if spot is None and not current.startswith(MARKDOWN_HEADER):
                begin, end = embed_markers(artifact.format)
                raise GenerationError(
                    f"{artifact.path} exists and was not generated by phasegate; to generate "
                    f"into it, mark the region with a {begin} line and a {end} line")
            result.append((target, current))  # a marked region, or a whole generated file
            continue
        if current is not None and not is_generated(current):
            raise GenerationError(f"{artifact.path} exists and was not generated by phasegate "
                                  "(no phasegate header); move it away first")
        result.append((target, current))
    return result


def _read(target: Path, shown: str) -> str | None:
    """The artifact's current text, or None when there is none yet."""
    if not target.exists() and not target.is_symlink():
        return None
    try:
        raw = read_regular(target, MAX_ARTIFACT_BYTES)
    except Unsafe as error:
        raise GenerationError(f"{shown}: {error}") from error
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # never rewritten with replacement characters
        raise GenerationError(f"{shown} is not UTF-8 text; nothing written; convert it or "
                              "move it away") from None
