"""The status grid: transitions x run keys, each cell the canary's own verdict. Pure.

Nothing here decides a state: :func:`phasegate.canary.evaluate.evaluate`
does, over the same history (the early rules' learning window) the canary
reads, so the page can never disagree with the alerts. This module only
chooses the run keys, lists the documents for one batched get, and keeps what a reader
needs from each check: the state, whether it alerts, the missing processors,
the firing time (local) and the warnings beside it. Every text that comes
from a document is already shortened and made printable here; the HTML
reporter still escapes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from phasegate.canary.early import EarlyRules, Usual, offset_text, usual_times
from phasegate.canary.evaluate import (
    Missing,
    Settings,
    StateCheck,
    evaluate,
    history_of,
    local_today,
    short,
)
from phasegate.runtime import as_time, printable

MAX_DAYS = 366  # the command line's bound; a bigger window is a mistake, not a view
Documents = Mapping[tuple[str, str], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Marker:
    """A warning beside a cell's state (UNKNOWN_NAMES, STALE_REGISTRY, ...)."""

    state: str
    alerting: bool
    detail: str


@dataclass(frozen=True)
class Cell:
    """One transition and run key, as the canary sees it."""

    run_key: str
    state: str
    alerting: bool  # the state or any warning beside it alerts
    state_alerting: bool  # the state itself alerts (LATE, STUCK, MISSING_RUN, UNREADABLE)
    detail: str
    missing: tuple[Missing, ...] = ()
    triggered_at: dt.datetime | None = None  # local time (the registry's timezone)
    reason: str | None = None  # why it fired (``_trigger_reason``)
    warnings: tuple[Marker, ...] = ()
    mode: str | None = None
    quiet: str | None = None


@dataclass(frozen=True)
class Learned:
    """What the early rules learned of one expected processor, for today's run key."""

    processor: str
    usual: Usual

    @property
    def text(self) -> str:
        return (f"{self.processor} usually by {offset_text(self.usual.latest)} "
                f"(median {offset_text(self.usual.median)}, {self.usual.samples} completions)")


@dataclass(frozen=True)
class Row:
    """One transition; ``note`` says why it has no cells (its settings cannot be used)."""

    name: str
    cells: tuple[Cell, ...] = ()
    note: str | None = None
    learned: tuple[Learned, ...] = ()  # expected processors with a learned time, by name


@dataclass(frozen=True)
class Grid:
    """Everything a reporter shows; ``error`` set means Firestore could not be read."""

    pipeline: str
    timezone: str
    registry_digest: str
    generated_at: dt.datetime  # the moment of evaluation, UTC
    today: str  # in the registry's timezone
    run_keys: tuple[str, ...]
    rows: tuple[Row, ...] = ()
    problems: tuple[str, ...] = ()  # settings the canary would report as CANARY_ERROR
    error: str | None = None
    calls: Mapping[str, int] = field(default_factory=dict)  # Firestore calls made

    @property
    def alerting(self) -> bool:
        return bool(self.problems) or any(c.alerting for r in self.rows for c in r.cells)

    @property
    def empty_reason(self) -> str | None:
        """Why the grid has no rows, in words, or None when it has some."""
        if self.rows:
            return None
        if self.error:
            return f"Firestore could not be read: {self.error}"
        if not self.run_keys:
            return "the canary's settings cannot be used, so nothing can be checked (see the "\
                   "problems listed)"
        return ("the registry defines no transitions, so there is nothing to check; add one "
                "under `transitions:` in the registry and run `phasegate generate`")


def check_days(days: int) -> None:
    """``days`` as the command line bounds it (ValueError names the bound)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise ValueError(f"--days must be a whole number from 0 to {MAX_DAYS}, not {days!r}")


def shown_keys(today: dt.date, days: int) -> list[str]:
    """The run keys shown: today - ``days`` through tomorrow (today in the registry's zone)."""
    return [(today + dt.timedelta(days=d)).isoformat() for d in range(-days, 2)]


def read_keys(today: dt.date, settings: Settings, days: int) -> list[str]:
    """The run keys read: before the shown ones, the days the early rules learn from
    (``canary.early``), so that an early LATE here is the canary's early LATE."""
    return shown_keys(today, days + EarlyRules.of(settings.canary).history_days)


@dataclass(frozen=True)
class View:
    """The settings as the canary's run checks them, and what that leaves to evaluate."""

    settings: Settings
    today: dt.date | None  # None: the timezone (or the transitions) cannot be used
    usable: tuple[str, ...]  # transitions that can be evaluated
    notes: Mapping[str, str]  # transition -> why it is not checked
    problems: tuple[str, ...]

    @classmethod
    def of(cls, settings: Settings, now: dt.datetime) -> View:
        from phasegate.canary.settings import check_settings

        result = check_settings(settings)
        good = result.settings
        if not result.usable:
            return cls(good, None, (), {}, tuple(result.problems))
        names = sorted(good.expectations["transitions"])
        notes = {name: "not checked: its settings cannot be used (see the problems listed)"
                 for name in names if name in result.skipped}
        return cls(good, local_today(now, good.zone),
                   tuple(name for name in names if name not in notes), notes,
                   tuple(result.problems))

    def wanted(self, days: int) -> list[tuple[str, str]]:
        """(collection, run key) of every document the grid needs: one batched get."""
        if self.today is None:
            return []
        transitions = self.settings.expectations["transitions"]
        keys = read_keys(self.today, self.settings, days)
        return [(transitions[t]["collection"], k) for t in self.usable for k in keys]


def build_grid(view: View, documents: Documents, now: dt.datetime, days: int, *,
               calls: Mapping[str, int] | None = None) -> Grid:
    """The grid from the documents read (a pair not read counts as no document)."""
    check_days(days)
    base = _frame(view, now, days, calls)
    if view.today is None:
        return base
    settings = view.settings
    transitions = settings.expectations["transitions"]
    read = read_keys(view.today, settings, days)
    rows = [Row(short(name), note=note) for name, note in view.notes.items()]
    for name in view.usable:
        collection = transitions[name]["collection"]
        mine = {k: documents.get((collection, k)) for k in read}
        history = history_of(name, mine, settings)  # once per transition, as the canary does
        rows.append(Row(name, tuple(
            _cell(evaluate(name, key, mine.get(key), now, settings, history), mine.get(key),
                  settings)
            for key in base.run_keys), learned=_learned(name, history, settings, base.today)))
    rows.sort(key=lambda row: row.name)
    return replace(base, rows=tuple(rows))


def _learned(transition: str, history: Any, settings: Settings, today: str,
             ) -> tuple[Learned, ...]:
    """The early rules' learned times for today's run key, of the processors it expects."""
    from phasegate.canary.evaluate import expects_on

    rules = EarlyRules.of(settings.canary)
    spec = settings.expectations["transitions"][transition]
    expected = expects_on(spec, dt.date.fromisoformat(today))(today)
    known = usual_times(today, history, settings.expectations["aliases"], rules)
    return tuple(Learned(name, known[name]) for name in sorted(known) if name in expected)


def unreadable_grid(view: View, now: dt.datetime, days: int, reason: str, *,
                    calls: Mapping[str, int] | None = None) -> Grid:
    """The grid when Firestore cannot be read: its frame, no cells, and the reason."""
    return replace(_frame(view, now, days, calls), error=printable(reason))


def _frame(view: View, now: dt.datetime, days: int,
           calls: Mapping[str, int] | None) -> Grid:
    """The grid's header and run keys (none when the settings cannot be used)."""
    data = view.settings.expectations
    return Grid(pipeline=short(data.get("pipeline", "")),
                timezone=short(data.get("timezone", "")),
                registry_digest=short(data.get("registry_digest", ""), 64),
                generated_at=now.astimezone(dt.UTC),
                today=view.today.isoformat() if view.today else "",
                run_keys=tuple(shown_keys(view.today, days)) if view.today else (),
                problems=view.problems, calls=dict(calls or {}))


def _cell(checks: list[StateCheck], document: Mapping[str, Any] | None,
          settings: Settings) -> Cell:
    """The main state (``checks[0]``) and the warnings beside it."""
    main, *others = checks
    triggered_at = reason = None
    if main.state == "TRIGGERED" and isinstance(document, Mapping):
        at = as_time(document.get("_triggered_at"))
        triggered_at = at.astimezone(settings.zone) if at else None
        given = document.get("_trigger_reason")
        reason = short(given, 60) if given else "all_complete"
    return Cell(run_key=main.run_key, state=main.state,
                alerting=any(c.alerting for c in checks), state_alerting=main.alerting,
                detail=printable(main.detail),
                missing=main.missing, triggered_at=triggered_at, reason=reason,
                warnings=tuple(Marker(c.state, c.alerting, printable(c.detail))
                               for c in others),
                mode=main.mode, quiet=main.quiet)
