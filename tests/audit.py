"""Prove "never read": an audit hook records every open or listing of a watched path.

``sys.addaudithook`` cannot be removed, so one hook is installed for the
whole test session and records only while a test watches something.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

OPENED: list[str] = []
_WATCH: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event in ("open", "os.scandir", "os.listdir") and _WATCH and args \
            and isinstance(args[0], str | bytes | os.PathLike):
        path = os.fsdecode(args[0])
        if any(path.startswith(prefix) for prefix in _WATCH):
            OPENED.append(path)


sys.addaudithook(_audit)


@contextmanager
def watching(*prefixes: str) -> Iterator[list[str]]:
    """Record what is opened or listed under ``prefixes`` until the block ends."""
    _WATCH[:] = list(prefixes)
    OPENED.clear()
    try:
        yield OPENED
    finally:
        _WATCH.clear()
