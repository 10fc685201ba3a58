"""Globs over repository-relative posix paths, for ``references.code`` and its excludes.

Pure matching, no I/O. ``*`` matches any run of characters within one path
component, ``?`` one character, and a ``**`` component any number of
components (none included). Every other character is literal, and matching is
case-sensitive. A pattern matches a path when it matches the path itself or
one of its parent directories, so ``bin/legacy`` and ``bin/legacy/**`` both
exclude everything under ``bin/legacy``.
"""

from __future__ import annotations

import functools
import posixpath
import re

WILDCARDS = ("*", "?")


def is_glob(pattern: str) -> bool:
    """Whether ``pattern`` holds a wildcard; a path without one is a plain path, as before."""
    return any(wildcard in pattern for wildcard in WILDCARDS)


def normalized(path: str) -> str:
    """``path`` without ``.`` and empty components or a trailing slash; ``""`` for the root."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    joined = posixpath.normpath("/".join(parts)) if parts else ""
    return "" if joined == "." else joined


def literal_prefix(pattern: str) -> str:
    """The directories before the first component with a wildcard (``""`` for none)."""
    literal: list[str] = []
    for part in pattern.split("/")[:-1]:
        if is_glob(part):
            break
        if part not in ("", "."):
            literal.append(part)
    return "/".join(literal)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = [part for part in pattern.split("/") if part not in ("", ".")]
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += ".+" if last else "(?:[^/]+/)*"
            continue
        regex += "".join("[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch)
                         for ch in part)
        if not last:
            regex += "/"
    return re.compile(regex)


def matches(pattern: str, path: str) -> bool:
    """Whether ``pattern`` matches repository-relative ``path`` or one of its parents."""
    regex = _compiled(pattern)
    parts = path.split("/")
    return any(regex.fullmatch("/".join(parts[:end])) for end in range(len(parts), 0, -1))


def matches_any(patterns: tuple[str, ...], *paths: str) -> bool:
    """Whether any pattern matches any of ``paths``."""
    return any(matches(pattern, path) for pattern in patterns for path in paths)
