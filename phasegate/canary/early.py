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
from collections.abc import Callable, Iterator, Mapping
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
    latest_clock: dt.timedelta = dt.timedelta()  # the latest time after the local midnight

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


class History(Mapping[str, Mapping[str, Any] | None]):
    """One transition's readable documents by run key, each interpreted once per run.

    ``deadline``: a completion later than this after its document's first one is a
    rerun or a backfill, not a usual time, and gives no sample; ``zone``: the
    registry's, whose midnight starts a run key's wall clock.
    """

    def __init__(self, documents: Documents, aliases: Mapping[str, str],
                 zone: dt.tzinfo = dt.UTC, deadline: dt.timedelta | None = None) -> None:
        self.documents = dict(documents)
        self.aliases = aliases
        self.zone = zone
        self.deadline = deadline
        self._done: dict[str, dict[str, dt.datetime | None]] = {}
        self._samples: dict[str, dict[str, tuple[dt.timedelta, dt.timedelta]]] = {}

    def __getitem__(self, key: str) -> Mapping[str, Any] | None:
        return self.documents[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    def with_document(self, run_key: str, document: Mapping[str, Any] | None) -> History:
        """This history with ``run_key``'s document as given (shares what is worked out)."""
        if self.documents.get(run_key) is document:
            return self
        other = History({**self.documents, run_key: document}, self.aliases, self.zone,
                        self.deadline)
        other._done = {k: v for k, v in self._done.items() if k != run_key}
        other._samples = {k: v for k, v in self._samples.items() if k != run_key}
        return other

    def done(self, key: str) -> dict[str, dt.datetime | None]:
        """Canonical processor -> completion time in ``key``'s document (empty: none)."""
        found = self._done.get(key)
        if found is None:
            document = self.documents.get(key)
            found = self._done[key] = completions(document, self.aliases) if document else {}
        return found

    def samples_of(self, key: str) -> dict[str, tuple[dt.timedelta, dt.timedelta]]:
        """Processor -> (offset from the first completion, time since the run key's local
        midnight) for each completion of ``key``'s document that is a sample."""
        found = self._samples.get(key)
        if found is None:
            found = self._samples[key] = {}
            document = self.documents.get(key)
            first = as_time(document.get("_first_completion_at")) if document else None
            if first is not None:  # without it: no clock to measure from, no sample
                midnight = dt.datetime.combine(dt.date.fromisoformat(key), dt.time(),
                                               tzinfo=self.zone)
                for name, when in self.done(key).items():
                    if when is None:
                        continue
                    offset = elapsed(first, when)
                    if self.deadline is None or offset <= self.deadline:
                        found[name] = (offset, elapsed(midnight, when))
        return found


def as_history(history: Documents | History, aliases: Mapping[str, str]) -> History:
    return history if isinstance(history, History) else History(history, aliases)


def samples(run_key: str, history: Documents | History, aliases: Mapping[str, str],
            learn_days: int) -> dict[str, list[dt.timedelta]]:
    """Each processor's completion offsets in the ``learn_days`` days before ``run_key``."""
    return {name: [offset for offset, _ in pairs]
            for name, pairs in _pairs(run_key, as_history(history, aliases), learn_days).items()}


def _pairs(run_key: str, history: History, learn_days: int,
           ) -> dict[str, list[tuple[dt.timedelta, dt.timedelta]]]:
    day = dt.date.fromisoformat(run_key)
    earliest = (day - dt.timedelta(days=learn_days)).isoformat()
    found: dict[str, list[tuple[dt.timedelta, dt.timedelta]]] = {}
    for key in history:
        if earliest <= key < run_key:
            for name, pair in history.samples_of(key).items():
                found.setdefault(name, []).append(pair)
    return found


def usual_times(run_key: str, history: Documents | History, aliases: Mapping[str, str],
                rules: EarlyRules) -> dict[str, Usual]:
    """What the learned rule knows for ``run_key``: processors with enough samples only."""
    if rules.learn_days <= 0:
        return {}
    learned: dict[str, Usual] = {}
    for name, pairs in _pairs(run_key, as_history(history, aliases), rules.learn_days).items():
        if len(pairs) >= rules.min_samples:
            offsets = sorted(offset for offset, _ in pairs)
            learned[name] = Usual(len(offsets), offsets[-1], offsets[len(offsets) // 2],
                                  max(clock for _, clock in pairs))
    return learned


def silent_for(name: str, run_key: str, history: Documents | History,
               aliases: Mapping[str, str],
               expects: Callable[[str], frozenset[str]]) -> tuple[int, str | None]:
    """Consecutive run keys up to ``run_key`` (with a document expecting ``name``) in which
    it did not complete; and the last run key it completed, if within ``history``.

    A run key whose document does not expect ``name`` (another mode, or written before
    it was expected), or in which no other processor it expects completed (no run
    happened: only a season-level report, or every report failed), neither counts nor
    breaks the run. ``expects`` returns nothing for a run key that must not count (one
    in a quiet period).
    """
    known = as_history(history, aliases)
    count = 0
    for key in sorted((k for k in known if k <= run_key), reverse=True):
        document = known[key]
        if document is None:
            continue
        expected = expects(key)
        written = document.get("_expected")
        if isinstance(written, list | tuple) and all(isinstance(n, str) for n in written):
            # what the orchestrator expected when it wrote the document
            expected = expected & frozenset(aliases.get(n, n) for n in written)
        if name not in expected:
            continue
        done = known.done(key)
        if name in done:
            return count, key
        if not (set(done) & expected):
            continue
        count += 1
    return count, None


def overdue(run_key: str, document: Mapping[str, Any], history: Documents | History,
            aliases: Mapping[str, str], expected: frozenset[str],
            done: Mapping[str, dt.datetime | None], first: dt.datetime | None,
            now: dt.datetime, rules: EarlyRules,
            failed: Mapping[str, dt.datetime | None],
            expects: Callable[[str], frozenset[str]]) -> list[Overdue]:
    """The missing expected processors an early rule says are not coming, at ``now``.

    ``done``: this run key's completions; ``first``: its clock start;
    ``failed``: processors whose last status for this run key is a failure, and when;
    ``expects``: the expected set of another run key (by its mode).

    The learned rule needs both clocks past the latest seen plus the slack: the
    offset from tonight's first completion (which an early run of another
    processor moves) and the time since the run key's local midnight. A failure
    recorded before the rule would hold is a retry under way: that processor is
    left to the silence rule and the deadline. One recorded later changes nothing.
    """
    missing = sorted(expected - set(done))
    if not missing or first is None:
        return []
    known = as_history(history, aliases).with_document(run_key, document)
    found: dict[str, Overdue] = {}
    learned = usual_times(run_key, known, aliases, rules)
    if rules.silent_run_keys > 0 and len(missing) == 1:
        # every other expected processor completed: the one left is the only hold-up
        name = missing[0]
        count, last = silent_for(name, run_key, known, aliases, expects)
        if count >= rules.silent_run_keys:
            others = [when for other, when in done.items() if other in expected and when]
            since = max(others) if others else first
            last_text = f"last completed {last}" if last else "no completion in the history read"
            usual = f"; {learned[name].described()}" if name in learned else ""
            found[name] = Overdue(name, "silence", f"silent for {count} run keys ({last_text})"
                                                   f"{usual}", since)
    midnight = dt.datetime.combine(dt.date.fromisoformat(run_key), dt.time(),
                                   tzinfo=known.zone)
    for name, usual_time in learned.items():
        if name not in missing or name in found:
            continue
        since = max(first.astimezone(dt.UTC) + usual_time.latest,
                    midnight.astimezone(dt.UTC) + usual_time.latest_clock) + rules.slack
        failure = failed.get(name)
        if name in failed and failure is not None and failure < since:
            continue  # failed before it was due: being retried
        if now > since:
            found[name] = Overdue(
                name, "learned", f"usually by {offset_text(usual_time.latest)}, now "
                                 f"{offset_text(elapsed(first, now))} (latest of "
                                 f"{usual_time.samples} completions in {rules.learn_days} days)",
                since)
    return [found[name] for name in sorted(found)]
