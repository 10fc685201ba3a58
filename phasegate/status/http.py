"""``GET /status`` and ``GET /status.json`` on the canary's HTTP function: the same page.

Read-only: it evaluates with the canary's rules from one batched read and
never runs the canary (no incident, no notification, no heartbeat, no
firing). Nothing from the environment goes into a response: the settings are
not shown, only the states, so a webhook URL or any other variable cannot
leak through it. Other methods on these paths answer 405. The function is
deployed without unauthenticated access; docs/status.md says how to open
the page to a group through IAM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from phasegate.canary.evaluate import Settings

PATHS = {"/status": "html", "/status.json": "json"}
READ_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_DAYS = 7
MAX_SERVED_DAYS = 31  # a page view is cheap to ask for; the batched read grows with days
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
TYPES = {"html": "text/html; charset=utf-8", "json": "application/json"}
Response = tuple[str, int, dict[str, str]]


def status_route(path: str) -> str | None:
    """The format a request path asks for ("html" or "json"), or None: not a status path."""
    trimmed = path.rstrip("/") if path not in ("", "/") else path
    return PATHS.get(trimmed)


def respond(method: str, output_format: str, query: Mapping[str, str], settings: Settings, *,
            project: str | None, now: dt.datetime | None = None,
            client: Any = None) -> Response:
    """The answer to one status request: 200 with the page, 503 when Firestore cannot be read
    (still a page saying so), 400 for a bad ``days``, 405 for a method that is not a read."""
    from phasegate.status.command import render
    from phasegate.status.read import read_grid
    from phasegate.status.render_html import CSP

    if method.upper() not in READ_METHODS:
        return ("405 method not allowed: /status and /status.json answer GET and HEAD only\n",
                405, {**HEADERS, "Allow": "GET, HEAD",
                      "Content-Type": "text/plain; charset=utf-8"})
    days = _days(query.get("days"))
    if days is None:
        return (f"400 bad request: days must be a whole number from 0 to {MAX_SERVED_DAYS}\n",
                400, {**HEADERS, "Content-Type": "text/plain; charset=utf-8"})
    grid = read_grid(settings, now or dt.datetime.now(dt.UTC), days, project=project,
                     client=client)
    headers = {**HEADERS, "Content-Type": TYPES[output_format]}
    if output_format == "html":
        headers["Content-Security-Policy"] = CSP
    return render(grid, output_format), 503 if grid.error else 200, headers


def _days(given: str | None) -> int | None:
    if given is None or given == "":
        return DEFAULT_DAYS
    text = given.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 3:
        return None
    days = int(text)
    return days if days <= MAX_SERVED_DAYS else None
