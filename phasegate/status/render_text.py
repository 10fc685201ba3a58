"""The grid for a terminal: symbols and a legend, colour only when asked for.

Readable without colour (piped, NO_COLOR, a screen reader): every cell has a
symbol, the legend names them, and each alerting cell is spelled out below
the grid with its missing processors. ``ascii_only`` is for a stream that
cannot encode the symbols. Pure: the caller decides colour and encoding.
"""

from __future__ import annotations

from phasegate.status.grid import Cell, Grid
from phasegate.status.legend import LOOKS, WARNING, look

NAME_WIDTH = 28  # transition names longer than this are shortened in the grid
MAX_DETAIL_CHARS = 400
COLOURS = {"TRIGGERED": "32", "WAITING": "33", "LATE": "1;31", "STUCK": "1;35",
           "MISSING_RUN": "1;31", "UNREADABLE": "1;31", "NO_DATA": "2"}
RESET = "\x1b[0m"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def render(grid: Grid, *, colour: bool = False, ascii_only: bool = False) -> str:
    """The whole report: header, grid, legend, then what alerts and why."""
    lines = [*_header(grid), ""]
    if grid.error:
        lines += [f"Firestore could not be read: {grid.error}",
                  "(no state can be shown; nothing was evaluated)"]
        return "\n".join(lines) + "\n"
    for problem in grid.problems:
        lines.append(f"problem: {problem}")
    if grid.problems:
        lines.append("")
    if not grid.rows:
        lines += [f"(empty grid) {grid.empty_reason}", ""]
    else:
        lines += _table(grid, colour, ascii_only) + [""]
    lines += _legend(ascii_only)
    lines += learned_lines(grid)
    details = _details(grid, ascii_only)
    if details:
        lines += ["", *details]
    alerting = sum(c.alerting for r in grid.rows for c in r.cells)
    lines += ["", f"{alerting} alerting cell{'s' if alerting != 1 else ''}"
                  f"{'; settings problems above' if grid.problems else ''}"]
    return "\n".join(lines) + "\n"


def learned_lines(grid: Grid) -> list[str]:
    """The early rules' learned times for today (what an early LATE is measured against)."""
    rows = [row for row in grid.rows if row.learned]
    if not rows:
        return []
    lines = ["", f"learned completion times for {grid.today} (from the first completion):"]
    for row in rows:
        lines.append(f"  {row.name}: " + "; ".join(item.text for item in row.learned))
    return lines


def _header(grid: Grid) -> list[str]:
    span = f"{grid.run_keys[0]} .. {grid.run_keys[-1]}" if grid.run_keys else "no run keys"
    return [f"{grid.pipeline}: canary status, run keys {span} ({grid.timezone})",
            f"evaluated at {grid.generated_at.isoformat(timespec='seconds')}; registry digest "
            f"{grid.registry_digest[:12]}"]


def symbol(state: str, ascii_only: bool) -> str:
    found = look(state)
    return found.ascii if ascii_only else found.symbol


def cell_text(cell: Cell, ascii_only: bool = False) -> str:
    """A few characters: symbol, then the firing time or the missing count, then markers."""
    text = symbol(cell.state, ascii_only)
    if cell.state == "TRIGGERED" and cell.triggered_at is not None:
        text += " " + cell.triggered_at.strftime("%H:%M")
    elif cell.state in ("LATE", "WAITING") and cell.missing:
        text += f" -{len(cell.missing)}"
    if cell.warnings:
        text += (WARNING.ascii if ascii_only else WARNING.symbol)
    return text


def shorten(name: str, width: int = NAME_WIDTH) -> str:
    """A long name cut in the middle, so both its phase prefix and its end stay readable."""
    if len(name) <= width:
        return name
    head = (width - 1) // 2
    return name[:head] + "…" + name[-(width - 1 - head):]


def _table(grid: Grid, colour: bool, ascii_only: bool) -> list[str]:
    names = [shorten(row.name) for row in grid.rows]
    name_width = max(len("transition"), *(len(n) for n in names))
    texts = [[cell_text(c, ascii_only) for c in row.cells] for row in grid.rows]
    width = max(5, *(len(t) for row in texts for t in row)) if any(texts) else 5
    days = [_weekday(key) for key in grid.run_keys]
    lines = [
        " " * name_width + "  " + " ".join(d.ljust(width) for d in days).rstrip(),
        "transition".ljust(name_width) + "  " + " ".join(
            (k[5:] + ("*" if k == grid.today else "")).ljust(width)
            for k in grid.run_keys).rstrip(),
    ]
    for name, row, row_texts in zip(names, grid.rows, texts, strict=True):
        if row.note:
            lines.append(f"{name.ljust(name_width)}  {row.note}")
            continue
        parts = []
        for cell, text in zip(row.cells, row_texts, strict=True):
            padded = text.ljust(width)
            code = COLOURS.get(cell.state)
            parts.append(f"\x1b[{code}m{padded}{RESET}" if colour and code else padded)
        lines.append(f"{name.ljust(name_width)}  {' '.join(parts)}".rstrip())
    lines.append(f"(* today, {grid.today}; columns are run keys MM-DD of "
                 f"{grid.run_keys[0][:4] if grid.run_keys else ''}; times local)")
    return lines


def _weekday(run_key: str) -> str:
    import datetime as dt

    return WEEKDAYS[dt.date.fromisoformat(run_key).weekday()]


def _legend(ascii_only: bool) -> list[str]:
    entries = [f"{(shown.ascii if ascii_only else shown.symbol)} {state}"
               for state, shown in LOOKS.items()]
    warning = WARNING.ascii if ascii_only else WARNING.symbol
    return ["legend: " + "  ".join(entries),
            f"        {warning} {WARNING.meaning}",
            "        -N: N expected processors missing; HH:MM: fired at (local time)"]


def _details(grid: Grid, ascii_only: bool) -> list[str]:
    """Each alerting cell (or warning) in words: what is missing, and why it alerts."""
    lines = []
    for row in grid.rows:
        for cell in row.cells:
            if cell.state_alerting:
                lines.append(f"{symbol(cell.state, ascii_only)} {row.name} {cell.run_key} "
                             f"{cell.state}: {_clip(cell.detail)}")
                if cell.missing:
                    lines.append("    missing: " + ", ".join(m.name for m in cell.missing))
            for warning in cell.warnings:
                lines.append(f"{WARNING.ascii if ascii_only else WARNING.symbol} {row.name} "
                             f"{cell.run_key} {warning.state}: {_clip(warning.detail)}")
    return ["alerting:", *lines] if lines else []


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"
