"""Early LATE: evidence that a missing processor is not coming, before the deadline. Pure.

The deadline (first completion + ``deadline_minutes``) is the hard bound,
but the evidence that a processor is not coming usually exists hours
earlier. Two rules (``canary.early``), each off with 0:

- silence: the processor is missing from ``silent_run_keys`` consecutive run
  keys that have a document, this one included, and every other expected
  processor of this run key has completed. A ``failed`` status is no report.
- learned: the processor has at least ``min_samples`` completions in the
  ``learn_days`` days before this run key, each an offset from its
  document's ``_first_completion_at``, and it is now later than the latest
  offset seen plus ``slack_minutes``. A processor that reported a failure for
  this run key is being retried, not gone: this rule leaves it to the
  silence rule and the deadline.

Old documents feed the learning like new ones (ISO-string times, class names
as keys); a document without ``_first_completion_at`` gives no sample, and a
completion before it (clock skew) counts as offset 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from phasegate.runtime import COMPLETING, as_time

Documents = Mapping[str, Mapping[str, Any] | None]  # run key -> document (None: none, unusable)
DEFAULTS = {"silent_run_keys": 2, "learn_days": 14, "min_samples": 5, "slack_minutes": 30}
SILENCE_DAYS_PER_RUN_KEY = 7  # how far back silence looks for each run key it counts


@dataclass(frozen=True)
class EarlyRules:
    """The ``canary.early`` settings, as checked."""

    silent_run_keys: int = 2
    learn_days: int = 14
    min_samples: int = 5
    slack_minutes: float = 30

    @classmethod
    def of(cls, canary: Mapping[str, Any]) -> EarlyRules:
        given = canary.get("early")
        given = given if isinstance(given, Mapping) else {}
        return cls(**{key: given.get(key, default) for key, default in DEFAULTS.items()})

    @property
    def history_days(self) -> int:
        """Days before a run key whose documents the rules read."""
        silence = self.silent_run_keys * SILENCE_DAYS_PER_RUN_KEY
        return max(self.learn_days, silence)

    @property
    def slack(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.slack_minutes)


@dataclass(frozen=True)
class Usual:
    """When a processor usually completes: offsets from the first completion."""

    samples: int
    latest: dt.timedelta  # the latest offset seen
    median: dt.timedelta

    def described(self) -> str:
        return f"usually by {offset_text(self.latest)} ({self.samples} completions)"


@dataclass(frozen=True)
class Overdue:
    """A missing processor one early rule says is not coming, and why."""

    name: str
    rule: Literal["silence", "learned"]
    reason: str  # "silent for 2 run keys (...)" or "usually by +1h25, now +1h55"
    since: dt.datetime  # when the rule started to hold


def elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Time from ``start`` to ``end``, never negative (clock skew counts as 0).

    In UTC: aware datetimes in one zone subtract as wall clocks, which is an
    hour off across a daylight-saving change.
    """
    return max(dt.timedelta(), end.astimezone(dt.UTC) - start.astimezone(dt.UTC))


def offset_text(offset: dt.timedelta) -> str:
    """``+1h25`` (``+0h05``; whole minutes, rounded down)."""
    minutes = max(0, int(offset.total_seconds() // 60))
    return f"+{minutes // 60}h{minutes % 60:02d}"


def completions(document: Mapping[str, Any], aliases: Mapping[str, str],
                     ) -> dict[str, dt.datetime | None]:
    """Canonical processor -> earliest completion time, for entries that completed."""
    found: dict[str, dt.datetime | None] = {}
    for key, entry in document.items():
        canonical = aliases.get(key) if isinstance(key, str) and not key.startswith("_") else None
        if canonical is None:
            continue
        if isinstance(entry, Mapping):
            status = entry.get("status")
            if status is not None and status not in COMPLETING:
                continue
            when = as_time(entry.get("completed_at"))
        elif entry:  # a legacy flag or timestamp
            when = as_time(entry)
        else:
            continue
        previous = found.get(canonical)
        found[canonical] = when if previous is None or (when and when < previous) else previous
    return found


def samples(run_key: str, history: Documents, aliases: Mapping[str, str],
            learn_days: int) -> dict[str, list[dt.timedelta]]:
    """Each processor's completion offsets in the ``learn_days`` days before ``run_key``."""
    day = dt.date.fromisoformat(run_key)
    earliest = (day - dt.timedelta(days=learn_days)).isoformat()
    found: dict[str, list[dt.timedelta]] = {}
    for key, document in history.items():
        if document is None or not earliest <= key < run_key:
            continue
        first = as_time(document.get("_first_completion_at"))
        if first is None:
            continue  # no clock to measure from: no sample
        for name, when in completions(document, aliases).items():
            if when is not None:
                found.setdefault(name, []).append(elapsed(first, when))
    return found


def usual_times(run_key: str, history: Documents, aliases: Mapping[str, str],
                rules: EarlyRules) -> dict[str, Usual]:
    """What the learned rule knows for ``run_key``: processors with enough samples only."""
    if rules.learn_days <= 0:
        return {}
    learned: dict[str, Usual] = {}
    for name, offsets in samples(run_key, history, aliases, rules.learn_days).items():
        if len(offsets) >= rules.min_samples:
            ordered = sorted(offsets)
            learned[name] = Usual(len(ordered), ordered[-1], ordered[len(ordered) // 2])
    return learned


def silent_for(name: str, run_key: str, history: Documents, aliases: Mapping[str, str],
               expects: Callable[[str], frozenset[str]]) -> tuple[int, str | None]:
    """Consecutive run keys up to ``run_key`` (with a document expecting ``name``) in which
    it did not complete; and the last run key it completed, if within ``history``.

    A run key whose document does not expect ``name`` (another mode), or in which no
    other processor it expects completed (no run happened: only a season-level report,
    or every report failed), neither counts nor breaks the run.
    """
    count = 0
    for key in sorted((k for k in history if k <= run_key), reverse=True):
        document = history[key]
        expected = expects(key)
        if document is None or name not in expected:
            continue
        done = completions(document, aliases)
        if name in done:
            return count, key
        if not (set(done) & expected):
            continue
        count += 1
    return count, None


def overdue(run_key: str, document: Mapping[str, Any], history: Documents,
            aliases: Mapping[str, str], expected: frozenset[str],
            done: Mapping[str, dt.datetime | None], first: dt.datetime | None,
            now: dt.datetime, rules: EarlyRules, failed: frozenset[str],
            expects: Callable[[str], frozenset[str]]) -> list[Overdue]:
    """The missing expected processors an early rule says are not coming, at ``now``.

    ``done``: this run key's completions; ``first``: its clock start;
    ``failed``: processors whose last status for this run key is a failure;
    ``expects``: the expected set of another run key (its mode).
    """
    missing = sorted(expected - set(done))
    if not missing or first is None:
        return []
    found: dict[str, Overdue] = {}
    learned = usual_times(run_key, history, aliases, rules)
    if rules.silent_run_keys > 0 and len(missing) == 1:
        # every other expected processor completed: the one left is the only hold-up
        name = missing[0]
        count, last = silent_for(name, run_key, {**history, run_key: document}, aliases,
                                 expects)
        if count >= rules.silent_run_keys:
            others = [when for other, when in done.items() if other in expected and when]
            since = max(others) if others else first
            last_text = f"last completed {last}" if last else "no completion in the history read"
            usual = f"; {learned[name].described()}" if name in learned else ""
            found[name] = Overdue(name, "silence", f"silent for {count} run keys ({last_text})"
                                                   f"{usual}", since)
    late = elapsed(first, now)
    for name, usual_time in learned.items():
        if name not in missing or name in found or name in failed:
            continue
        if late > usual_time.latest + rules.slack:
            found[name] = Overdue(
                name, "learned", f"usually by {offset_text(usual_time.latest)}, now "
                                 f"{offset_text(late)} (latest of {usual_time.samples} "
                                 f"completions in {rules.learn_days} days)",
                first + usual_time.latest + rules.slack)
    return [found[name] for name in sorted(found)]
