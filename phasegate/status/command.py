"""``phasegate status``: the command line's entry point, and the reporters by name.

Exit codes: 0 nothing alerting, 1 something alerting, 2 usage (UsageError),
3 Firestore unreadable (``--format html`` still writes a page that says so;
text and JSON say so on stderr only, so a tool never parses half a report).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from phasegate.usage import UsageError

if TYPE_CHECKING:
    from phasegate.registry.loading import LoadedRegistry
    from phasegate.status.grid import Grid

EXIT_CLEAN, EXIT_ALERTING, EXIT_UNREADABLE = 0, 1, 3
SYMBOLS_SAMPLE = "✓…■∅·⚠•"  # what the text report needs its stream to encode


@dataclass(frozen=True)
class Style:
    """How the text report may look on its stream (the other formats ignore it)."""

    colour: bool = False
    ascii_only: bool = False


def _text(grid: Grid, style: Style) -> str:
    from phasegate.status.render_text import render as text_render

    return text_render(grid, colour=style.colour, ascii_only=style.ascii_only)


def _json(grid: Grid, style: Style) -> str:
    from phasegate.status.render_json import render as json_render

    return json_render(grid)


def _html(grid: Grid, style: Style) -> str:
    from phasegate.status.render_html import render as html_render

    # character references for anything beyond ASCII: the page is right whatever the
    # stream's encoding, and its <meta charset> still says UTF-8 (a superset)
    return html_render(grid).encode("ascii", "xmlcharrefreplace").decode("ascii")


# one pure function of the grid per format: adding one touches nothing else
REPORTERS: dict[str, Callable[[Grid, Style], str]] = {"text": _text, "json": _json,
                                                      "html": _html}


def render(grid: Grid, output_format: str, style: Style | None = None) -> str:
    """``grid`` in one of REPORTERS' formats."""
    reporter = REPORTERS.get(output_format)
    if reporter is None:
        raise UsageError(f"unknown format {output_format!r}; use one of "
                         f"{', '.join(REPORTERS)}")
    return reporter(grid, style or Style())


def status_command(loaded: LoadedRegistry, root: Path, *, project: str | None, days: int,
                   now: dt.datetime | None, output_format: str, out: TextIO,
                   err: TextIO) -> int:
    """Evaluate every transition for ``days`` before today through tomorrow and show it."""
    from phasegate.canary.commands import settings_for
    from phasegate.status.grid import check_days
    from phasegate.status.read import read_grid

    if output_format not in REPORTERS:
        raise UsageError(f"unknown format {output_format!r}; use one of "
                         f"{', '.join(REPORTERS)}")
    try:
        check_days(days)
    except ValueError as error:
        raise UsageError(str(error)) from error
    _, settings = settings_for(loaded, root)
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise UsageError("--now needs a UTC offset (e.g. 2026-02-10T07:00:00+00:00)")
    grid = read_grid(settings, moment, days, project=project)
    if grid.error:
        if output_format == "html":
            _write(out, render(grid, "html"))
        print(f"phasegate: error: cannot read Firestore: {grid.error}", file=err)
        return EXIT_UNREADABLE
    style = Style(colour=wants_colour(out), ascii_only=not _encodes(out, SYMBOLS_SAMPLE))
    _write(out, render(grid, output_format, style))
    return EXIT_ALERTING if grid.alerting else EXIT_CLEAN


def wants_colour(out: TextIO, environ: dict[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):  # a closed or odd stream is no terminal
        return False


def _encoding(out: TextIO) -> str:
    import codecs

    encoding = getattr(out, "encoding", None)
    try:
        return codecs.lookup(encoding).name if isinstance(encoding, str) else "utf-8"
    except LookupError:
        return "utf-8"


def _encodes(out: TextIO, text: str) -> bool:
    try:
        text.encode(_encoding(out))
    except UnicodeEncodeError:
        return False
    return True


def _write(out: TextIO, text: str) -> None:
    """``text`` on ``out``; what its encoding cannot carry (a name from a document) is
    written as a backslash escape rather than failing with a traceback."""
    encoding = _encoding(out)
    if not _encodes(out, text):
        text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    out.write(text)
    out.flush()
