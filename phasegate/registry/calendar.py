"""Read ``canary.calendar``: the run keys on which a run is expected.

Read at generation time (the deployed canary gets the keys inside its
``expected.json``) and by the command-line canary, always relative to the
repository root and never outside it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from phasegate.registry.confine import Unsafe, inside, read_regular


class CalendarError(Exception):
    """The calendar is outside the root, missing, too large or holds a line that is not a date."""


def read_calendar(root: Path, relative: str) -> frozenset[str]:
    """Run keys (YYYY-MM-DD), one per line; ``#`` starts a comment.

    The file's lines are never echoed: a date that does not parse is named by
    its line number only (the calendar could point at a secret).
    """
    try:
        raw = read_regular(inside(root, relative))
    except Unsafe as error:
        raise CalendarError(str(error)) from error
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
            raise CalendarError(f"{relative}:{number}: not a date (YYYY-MM-DD)") from error
    return frozenset(keys)
