"""The grid as one self-contained HTML page: no external assets, no script. Pure.

It is opened from a file (``file://``), mailed, attached to an incident, or
served by the canary function behind IAM, so it fetches nothing and runs
nothing (its Content-Security-Policy forbids both). Accessibility: a real
table (caption, ``th scope``), each state written out beside its symbol so
colour is never the only signal, dark text on light tints (contrast at
least 7:1). Every string that comes from Firestore, and every name, is
escaped here, whatever was done to it before.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from phasegate import __version__
from phasegate.status.grid import Cell, Grid, Row
from phasegate.status.legend import LOOKS, WARNING, look

WRAP_AFTER = 24  # characters of a name shown on one line
MAX_TITLE_CHARS = 600  # a tooltip holds the detail; the details section holds all of it
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

# text #111 on every tint below is at least 14:1; the tints differ in hue and in the
# border style so that the states stay apart in greyscale too
STYLE = """
body{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;
background:#fff;margin:1rem 1.25rem}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.meta{color:#333;margin:.2rem 0}code{font:13px ui-monospace,Menlo,Consolas,monospace}
.wrap{overflow-x:auto}
table{border-collapse:collapse;margin-top:.5rem}
caption{text-align:left;font-weight:600;padding:.4rem 0;color:#111}
th,td{border:1px solid #767676;padding:.3rem .4rem;vertical-align:top;text-align:left}
thead th{background:#f0f0f0;white-space:nowrap;font-weight:600}
thead th.today{background:#dde7f7}
th[scope=row]{background:#f7f7f7;overflow-wrap:break-word}
.head{white-space:nowrap}
td{min-width:5.5rem;overflow-wrap:break-word;font-size:13.5px}
.sym{font-weight:700;margin-right:.25rem}
.state{font-weight:700;letter-spacing:.02em}
.alert{display:inline-block;border:1px solid #8a0000;color:#8a0000;background:#fff;
font-size:11px;font-weight:700;padding:0 .25rem;margin-left:.2rem;border-radius:3px}
.sub{display:block;color:#222}
ul.missing{margin:.2rem 0 0 1rem;padding:0}ul.missing li{margin:0}
.warn{display:block;margin-top:.2rem;color:#5c3b00;font-weight:600}
.s-TRIGGERED{background:#e4f4e7;border-left:4px solid #1e6b2e}
.s-WAITING{background:#fff5d6;border-left:4px dotted #7a5b00}
.s-LATE{background:#fde3e1;border-left:6px solid #a40e0e}
.s-STUCK{background:#f5e1f4;border-left:6px double #7b1f74}
.s-MISSING_RUN{background:#fde3e1;border-left:6px dashed #a40e0e}
.s-UNREADABLE{background:#ececec;border-left:6px dashed #333}
.s-NO_DATA{background:#fafafa;color:#3d3d3d}
.s-other{background:#eef}
.is-alerting{outline:2px solid #a40e0e;outline-offset:-3px}
.banner{border:2px solid #a40e0e;background:#fde3e1;padding:.6rem .8rem;max-width:60rem}
.empty{padding:.8rem;color:#222}
dl.legend{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:0}
dl.legend dt{font-weight:700}dl.legend dd{margin:0}
ul.details li{margin:.3rem 0;overflow-wrap:anywhere}
footer{margin-top:2rem;color:#333;font-size:13px}
"""


def render(grid: Grid) -> str:
    """The whole page, as text (UTF-8 when written)."""
    title = f"{grid.pipeline}: canary status"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        '<link rel="icon" href="data:,">',  # no /favicon.ico request to the function
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        *_meta(grid),
        "</header>",
        "<main>",
    ]
    if grid.error:
        parts += _error(grid)
    else:
        parts += _problems(grid) + _table(grid) + _legend() + _details(grid) + _learned(grid)
    parts += [
        "</main>",
        f"<footer>phasegate {escape(__version__)}. Read-only: this page was evaluated with the "
        "canary's own rules from one batched Firestore read; it sends and stores nothing. "
        "See docs/status.md.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _meta(grid: Grid) -> list[str]:
    at = grid.generated_at
    local = _local(grid)
    span = (f"run keys {escape(grid.run_keys[0])} to {escape(grid.run_keys[-1])}"
            if grid.run_keys else "no run keys")
    alerting = sum(c.alerting for r in grid.rows for c in r.cells)
    summary = ("Firestore could not be read: the state is unknown" if grid.error else
               f"{alerting} alerting cell{'s' if alerting != 1 else ''}"
               + (" and settings problems" if grid.problems else ""))
    return [
        f'<p class="meta">Evaluated at <time datetime="{escape(at.isoformat())}">'
        f"{escape(local)}</time> ({escape(at.strftime('%Y-%m-%d %H:%M'))} UTC); "
        f"{span}, timezone {escape(grid.timezone)}.</p>",
        f'<p class="meta">Registry digest <code>{escape(grid.registry_digest)}</code>.</p>',
        f'<p class="meta"><strong>{escape(summary)}</strong>.</p>',
    ]


def _local(grid: Grid) -> str:
    from zoneinfo import ZoneInfo

    try:
        moment = grid.generated_at.astimezone(ZoneInfo(grid.timezone))
    except Exception:  # noqa: BLE001 - a broken timezone is reported as a problem
        return grid.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def _error(grid: Grid) -> list[str]:
    return [
        '<section class="banner" role="alert">',
        "<h2>Firestore could not be read</h2>",
        f"<p>{escape(grid.error or '')}</p>",
        "<p>Nothing was evaluated, so no transition's state is shown: the pipeline may be "
        "healthy or not. The canary reports the same failure as CANARY_ERROR when it cannot "
        "read.</p>",
        "</section>",
    ]


def _problems(grid: Grid) -> list[str]:
    if not grid.problems:
        return []
    items = "".join(f"<li>{escape(p)}</li>" for p in grid.problems)
    return ['<section class="banner" role="alert"><h2>Settings problems</h2>'
            f"<p>The canary reports these as CANARY_ERROR.</p><ul>{items}</ul></section>"]


def _table(grid: Grid) -> list[str]:
    first, last = (grid.run_keys[0], grid.run_keys[-1]) if grid.run_keys else ("", "")
    caption = (f"Canary state of each transition (rows) for each run key (columns), {first} "
               f"to {last}, {grid.timezone}; times are local." if grid.run_keys
               else "Canary state of each transition: no run keys.")
    head = ['<th scope="col">Transition</th>']
    for key in grid.run_keys:
        day = WEEKDAYS[dt.date.fromisoformat(key).weekday()]
        today = key == grid.today
        label = " (today)" if today else ""
        css = ' class="today"' if today else ""
        head.append(f'<th scope="col"{css}>'
                    f'<time datetime="{escape(key)}">{escape(key)}</time> <br>'
                    f"{day}{label}</th>")
    lines = ['<div class="wrap">', "<table>", f"<caption>{escape(caption)}</caption>",
             f"<thead><tr>{''.join(head)}</tr></thead>", "<tbody>"]
    if not grid.rows:
        lines.append(f'<tr><td class="empty" colspan="{len(grid.run_keys) + 1}">'
                     f"{escape(grid.empty_reason or '')}</td></tr>")
    for row in grid.rows:
        lines.append(_row(row, len(grid.run_keys)))
    lines += ["</tbody>", "</table>", "</div>"]
    return lines


def breakable(name: str, short: int = WRAP_AFTER) -> str:
    """``name`` escaped; when longer than ``short``, with a line-break opportunity after
    each ``_`` and ``.``, so that a long snake_case name wraps at its words."""
    if len(name) <= short:
        return escape(name)
    return escape(name).replace("_", "_<wbr>").replace(".", ".<wbr>")


def _row(row: Row, columns: int) -> str:
    name = f'<th scope="row">{breakable(row.name)}</th>'
    if row.note:
        return f'<tr>{name}<td colspan="{max(columns, 1)}">{escape(row.note)}</td></tr>'
    return f"<tr>{name}{''.join(_cell(cell) for cell in row.cells)}</tr>"


def _cell(cell: Cell) -> str:
    shown = look(cell.state)
    css = f"s-{cell.state}" if cell.state in LOOKS else "s-other"
    if cell.alerting:
        css += " is-alerting"
    title = cell.detail if len(cell.detail) <= MAX_TITLE_CHARS else (
        cell.detail[: MAX_TITLE_CHARS - 1] + "…")
    body = [f'<span class="head"><span class="sym" aria-hidden="true">'
            f'{escape(shown.symbol)}</span> <span class="state">{escape(cell.state)}</span>'
            "</span>"]
    if cell.state_alerting:
        body.append('<span class="alert">ALERT</span>')
    body += _cell_body(cell)
    for warning in cell.warnings:
        body.append(f'<span class="warn" title="{escape(_clip(warning.detail))}">'
                    f'<span aria-hidden="true">{escape(WARNING.symbol)}</span> '
                    f"{escape(warning.state)}{' (alert)' if warning.alerting else ''}</span>")
    return f'<td class="{css}" title="{escape(title)}">{" ".join(body)}</td>'


def _cell_body(cell: Cell) -> list[str]:
    """What the state needs beside its name: the firing time, or who is missing."""
    if cell.state == "TRIGGERED":
        parts = []
        if cell.triggered_at is not None:
            parts.append(f'<span class="sub">fired <time datetime="'
                         f'{escape(cell.triggered_at.isoformat())}">'
                         f"{escape(cell.triggered_at.strftime('%m-%d %H:%M'))}</time></span>")
        if cell.reason:
            parts.append(f'<span class="sub">{escape(cell.reason)}</span>')
        return parts
    if cell.state in ("LATE", "WAITING") and cell.missing:
        names = ", ".join(m.name for m in cell.missing)
        count = (f'<span class="sub" title="{escape(_clip(names))}">missing '
                 f"{len(cell.missing)}</span>")
        if cell.state != "LATE":
            return [count]
        items = "".join(f'<li title="{escape(_clip(m.described()))}">{breakable(m.name)}</li>'
                        for m in cell.missing)
        return [count, f'<ul class="missing">{items}</ul>']
    words = {"STUCK": "complete, not fired", "MISSING_RUN": "no run",
             "UNREADABLE": "cannot be read", "NO_DATA": cell.quiet}
    text = words.get(cell.state)
    return [f'<span class="sub">{escape(text)}</span>'] if text else []


def _legend() -> list[str]:
    entries = [f'<dt><span aria-hidden="true">{escape(s.symbol)}</span> {escape(state)}</dt>'
               f"<dd>{escape(s.meaning)}</dd>" for state, s in LOOKS.items()]
    entries.append(f'<dt><span aria-hidden="true">{escape(WARNING.symbol)}</span> warning</dt>'
                   f"<dd>{escape(WARNING.meaning)}</dd>")
    entries.append("<dt>ALERT</dt><dd>the canary alerts on this cell (a red outline marks "
                   "every cell that alerts, warnings included)</dd>")
    return ["<section>", "<h2>Legend</h2>", f'<dl class="legend">{"".join(entries)}</dl>',
            "</section>"]


def _details(grid: Grid) -> list[str]:
    """Every alerting state and warning in full: the table's tooltips are not enough."""
    items = []
    for row in grid.rows:
        for cell in row.cells:
            where = f"<strong>{escape(row.name)} {escape(cell.run_key)}</strong>"
            if cell.state_alerting:
                missing = "".join(f"<li>{escape(m.described())}"
                                  f"{escape(_last(m.last_reported, m.early))}</li>"
                                  for m in cell.missing)
                items.append(f"<li>{where} {escape(cell.state)}: {escape(cell.detail)}"
                             f"{f'<ul>{missing}</ul>' if missing else ''}</li>")
            for warning in cell.warnings:
                items.append(f"<li>{where} {escape(warning.state)}: "
                             f"{escape(warning.detail)}</li>")
    if not items:
        return ["<section>", "<h2>What alerts</h2>", "<p>Nothing alerts.</p>", "</section>"]
    return ["<section>", "<h2>What alerts</h2>", f'<ul class="details">{"".join(items)}</ul>',
            "</section>"]


def _learned(grid: Grid) -> list[str]:
    """The early rules' learned times for today: what an early LATE is measured against."""
    rows = [row for row in grid.rows if row.learned]
    if not rows:
        return []
    items = "".join(f"<li><strong>{escape(row.name)}</strong>: "
                    f"{escape('; '.join(item.text for item in row.learned))}</li>"
                    for row in rows)
    return ["<section>", f"<h2>Learned completion times for {escape(grid.today)}</h2>",
            "<p>Offsets from the first completion, learned by the early rules "
            "(canary.early); a processor later than its latest plus the slack is LATE before "
            "the deadline.</p>", f'<ul class="details">{items}</ul>', "</section>"]


def _last(last_reported: str | None, early: str | None) -> str:
    text = f"; last completed {last_reported}" if last_reported else ""
    return text + (f"; {early}" if early else "")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TITLE_CHARS else text[: MAX_TITLE_CHARS - 1] + "…"
