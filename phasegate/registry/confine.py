"""Paths from a registry stay inside the repository; files are read only when regular, bounded.

The validator runs on pull requests, so a registry is untrusted input: a
path it names (``generate``, ``references``, ``canary.calendar``) must be
relative, and must stay inside the root after every symlink is resolved.
A file is read only when it is a regular file, and never more than
:data:`MAX_BYTES` of it, whatever size ``stat`` reports: a FIFO or
``/dev/zero`` behind a committed symlink ends in an error, not a hang.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

MAX_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024


class Unsafe(Exception):
    """A path that leaves the root, or a file that is not a regular file of sane size."""


def lexical_problem(relative: str) -> str | None:
    """Why ``relative`` is unsafe on its face (before touching the file system), or None."""
    if not relative or any(ord(ch) < 32 or ord(ch) == 127 for ch in relative):
        return "is empty or holds a control character"
    if relative.startswith(("/", "\\")) or PurePosixPath(relative).is_absolute() or (
            len(relative) > 1 and relative[1] == ":"):
        return "is absolute; paths in the registry are relative to the repository root"
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if any(part.lower() == ".git" for part in parts):
        return "is inside .git, which phasegate never reads or writes"
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            return "leaves the repository root (..)"
    return None


def inside(root: Path, relative: str) -> Path:
    """``root / relative`` with symlinks resolved, or :class:`Unsafe` if it leaves the root."""
    problem = lexical_problem(relative)
    if problem:
        raise Unsafe(f"{relative!r} {problem}")
    base = root.resolve()
    try:
        target = (base / relative).resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop, a name too long
        raise Unsafe(f"{relative!r} cannot be resolved ({type(error).__name__})") from error
    if not is_within(target, base):
        raise Unsafe(f"{relative!r} leaves the repository root through a symlink "
                     f"(it resolves outside {base.name or base})")
    if any(part.lower() == ".git" for part in target.relative_to(base).parts):
        raise Unsafe(f"{relative!r} leads into .git through a symlink; phasegate never reads "
                     "or writes there")
    return target


def is_within(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, at most ``limit``; :class:`Unsafe` for anything else.

    The type is checked on the open descriptor (no race with a swapped file),
    and the read stops at ``limit + 1`` bytes whatever ``stat`` claims.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                             | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as error:
        raise Unsafe(f"{path}: no such file") from error
    except OSError as error:
        raise Unsafe(f"{path}: cannot open: {error.strerror or error}") from error
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise Unsafe(f"{path}: not a regular file (a directory, FIFO, socket or device)")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise Unsafe(f"{path}: larger than the {limit:,}-byte limit")
        return b"".join(chunks)
    except OSError as error:
        raise Unsafe(f"{path}: cannot read: {error.strerror or error}") from error
    finally:
        os.close(descriptor)
