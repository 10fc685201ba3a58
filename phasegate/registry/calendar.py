"""Read ``canary.calendar``: the run keys on which a run is expected.

Read at generation time (the deployed canary gets the keys inside its
``expected.json``) and by the command-line canary, always relative to the
repository root and never outside it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

MAX_BYTES = 8 * 1024 * 1024


class CalendarError(Exception):
    """The calendar is outside the root, missing, too large or holds a line that is not a date."""


def inside(root: Path, relative: str) -> Path:
    """``root / relative`` resolved, or CalendarError when it leaves the root."""
    if Path(relative).is_absolute():
        raise CalendarError(f"{relative}: must be relative to the repository root")
    base = root.resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise CalendarError(f"{relative}: leaves the repository root")
    return target


def read_calendar(root: Path, relative: str) -> frozenset[str]:
    """Run keys (YYYY-MM-DD), one per line; ``#`` starts a comment."""
    path = inside(root, relative)
    if not path.is_file():
        raise CalendarError(f"{relative}: not a regular file")
    with path.open("rb") as handle:
        raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise CalendarError(f"{relative}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CalendarError(f"{relative}: not UTF-8 text") from error
    keys = set()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            keys.add(dt.date.fromisoformat(entry).isoformat())
        except ValueError as error:
            raise CalendarError(
                f"{relative}:{number}: {entry[:40]!r} is not a date (YYYY-MM-DD)") from error
    return frozenset(keys)
