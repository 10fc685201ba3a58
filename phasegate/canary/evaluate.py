"""What state a transition is in for one run key: pure, with the time passed in.

States (DESIGN.md): NO_DATA, MISSING_RUN, WAITING, LATE, STUCK, TRIGGERED for
the transition itself, and UNKNOWN_NAMES, MIRROR_FAILED and STALE_REGISTRY as warnings that
can hold at the same time. Old documents are understood: ISO-string
timestamps, and raw class names as keys (aliases resolve them). A document
that cannot be interpreted (a field of an unexpected type) is UNREADABLE, an
alerting state naming what is malformed; it never stops the evaluation of
any other run key, and it never counts as history for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from phasegate import policy
from phasegate.canary.early import (
    EarlyRules,
    History,
    Overdue,
    completions,
    elapsed,
    offset_text,
    overdue,
)
from phasegate.runtime import (
    COMPLETING,
    State,
    as_time,
    printable,
    processor_status,
    select_mode,
)

MAX_NAME_CHARS = 80  # a name from a document, as shown in a detail
MAX_NAMES_SHOWN = 10  # names listed in one detail; the rest are counted
TIME_FIELDS = frozenset({"_first_completion_at", "_last_completion_at", "_triggered_at",
                         "_trigger_error_at"})
FLAG_FIELDS = frozenset({"_triggered", "_trigger_pending"})
TEXT_FIELDS = frozenset({"_trigger_reason", "_mode", "_registry_digest", "_transition_digest",
                         "_trigger_id", "_trigger_error"})
COUNT_FIELDS = frozenset({"_unknown_count", "_mirror_failures"})


def short(text: Any, limit: int = MAX_NAME_CHARS) -> str:
    """At most ``limit`` characters of ``text``, on one line."""
    value = printable(str(text))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def names_text(names: list[str]) -> str:
    """Names from a document for a detail: each shortened, at most MAX_NAMES_SHOWN of them."""
    shown = ", ".join(short(name) for name in names[:MAX_NAMES_SHOWN])
    rest = len(names) - MAX_NAMES_SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


def kind_of(value: Any) -> str:
    """What a value is, for a message: its type and a short look at it."""
    name = type(value).__name__
    if isinstance(value, str | bytes | list | tuple | dict | Mapping):
        if isinstance(value, str) and len(value) <= 40:
            return f"a {name} ({short(repr(value), 42)})"
        return f"a {name} of length {len(value)}"
    return f"a {name} ({short(repr(value), 40)})"


@dataclass(frozen=True)
class Missing:
    name: str
    status: str  # how the registry sees it
    last_reported: str | None  # the last run key it completed
    this_run: str | None = None  # what it reported for this run key, e.g. "failed at 03:12"
    early: str | None = None  # the early rule that says it is not coming, and why

    def described(self) -> str:
        """``name (registry status; failed at 03:12)`` for alert texts."""
        return f"{self.name} ({self.status}{f'; {self.this_run}' if self.this_run else ''})"


@dataclass(frozen=True)
class StateCheck:
    """What the canary found for one transition and run key: a state, or a warning beside it."""

    transition: str
    run_key: str
    mode: str | None
    state: State
    completed: tuple[str, ...] = ()
    missing: tuple[Missing, ...] = ()
    alerting: bool = False
    detail: str = ""
    quiet: str | None = None
    due: str | None = None  # a tier (or auto_heal) holds and nothing fired: the reason to fire
    detectable: dt.datetime | None = None  # when an alerting state started to hold

    @property
    def dedup_key(self) -> str:
        return f"{self.transition}/{self.run_key}/{self.state}"


@dataclass
class Settings:
    """The canary's view of the generated expectations (canary/expected.json)."""

    expectations: Mapping[str, Any]
    calendar: frozenset[str] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.expectations["timezone"])

    @property
    def canary(self) -> Mapping[str, Any]:
        result: Mapping[str, Any] = self.expectations["canary"]
        return result


def local_today(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    return now.astimezone(zone).date()


def run_keys(now: dt.datetime, settings: Settings) -> list[str]:
    """From today - lookback_days through tomorrow, in the registry's timezone."""
    today = local_today(now, settings.zone)
    back = int(settings.canary.get("lookback_days", 3))
    return [(today + dt.timedelta(days=d)).isoformat() for d in range(-back, 2)]


def history_keys(now: dt.datetime, settings: Settings) -> list[str]:
    """The run keys a run reads: the lookback, and before it the days the early rules learn
    from (``canary.early``), through tomorrow."""
    today = local_today(now, settings.zone)
    back = int(settings.canary.get("lookback_days", 3)) + EarlyRules.of(
        settings.canary).history_days
    return [(today + dt.timedelta(days=d)).isoformat() for d in range(-back, 2)]


def clock_start(document: Mapping[str, Any], done: Mapping[str, dt.datetime | None],
                expected: frozenset[str]) -> dt.datetime | None:
    """When the tiers' and the deadline's clock started: ``_first_completion_at``, or
    (an older document) the first *expected* completion, never another one."""
    first = as_time(document.get("_first_completion_at"))
    if first is None:
        known = [t for name, t in done.items() if name in expected and t is not None]
        first = min(known) if known else None
    return first


def document_problem(document: Any, aliases: Mapping[str, str]) -> str | None:
    """What makes a document uninterpretable, naming the fields, or None when it can be read.

    Only what the canary reads is checked: metadata fields it knows, and the
    entries of processors the registry knows. Unknown names are never read
    (they are UNKNOWN_NAMES), whatever they hold.
    """
    if not isinstance(document, Mapping):
        return f"the document is {kind_of(document)}, not a map"
    problems = []
    for key, value in document.items():
        if not isinstance(key, str):
            problems.append(f"a field is named by {kind_of(key)}")
            continue
        if key.startswith("_"):
            problem = _metadata_problem(key, value)
        elif key in aliases:
            problem = _entry_problem(value)
        else:
            problem = None
        if problem:
            problems.append(f"{short(key)!r} {problem}")
    if not problems:
        return None
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


def _is_time(value: Any) -> bool:
    return isinstance(value, dt.datetime) or (isinstance(value, str) and as_time(value)
                                               is not None)


def _metadata_problem(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if key in TIME_FIELDS and not _is_time(value):
        return f"is {kind_of(value)}, not a time"
    if key in FLAG_FIELDS and not isinstance(value, bool):
        return f"is {kind_of(value)}, not true or false"
    if key in TEXT_FIELDS and not isinstance(value, str):
        return f"is {kind_of(value)}, not text"
    if key in COUNT_FIELDS and (isinstance(value, bool) or not isinstance(value, int)
                                or value < 0):
        return f"is {kind_of(value)}, not a count"
    if key == "_unknown" and not (isinstance(value, Mapping)
                                  and all(isinstance(name, str) for name in value)):
        return f"is {kind_of(value)}, not a map of names"
    if key == "_expected" and not (isinstance(value, list | tuple)
                                   and all(isinstance(name, str) for name in value)):
        return f"is {kind_of(value)}, not a list of names"
    return None


def _entry_problem(entry: Any) -> str | None:
    """A processor entry: a map, or (older documents) a flag, a timestamp or an ISO string."""
    if entry is None or isinstance(entry, bool | dt.datetime):
        return None
    if isinstance(entry, str):
        return None if as_time(entry) is not None else (
            f"is {kind_of(entry)}, neither a processor entry (a map) nor a time")
    if not isinstance(entry, Mapping):
        return f"is {kind_of(entry)}, not a processor entry (a map)"
    status = entry.get("status")
    if status is not None and not isinstance(status, str):
        return f"has a status that is {kind_of(status)}, not text"
    completed = entry.get("completed_at")
    if completed not in (None, "") and not _is_time(completed):
        return f"has a completed_at that is {kind_of(completed)}, not a time"
    return None


def unknown_names(document: Mapping[str, Any], aliases: Mapping[str, str]) -> list[str]:
    names = set((document.get("_unknown") or {}).keys())
    names |= {k for k in document if not k.startswith("_") and k not in aliases}
    return sorted(names)


def quiet_reason(run_key: str, settings: Settings) -> str | None:
    for period in settings.canary.get("quiet_periods") or ():
        if period["from"] <= run_key <= period["to"]:
            return str(period["reason"])
    return None


def history_of(transition: str, documents: Mapping[str, Mapping[str, Any] | None],
               settings: Settings) -> History:
    """One transition's documents as evidence for each other: a malformed one is no evidence
    (it is UNREADABLE on its own run key). Built once per run and transition."""
    spec = settings.expectations["transitions"][transition]
    aliases = settings.expectations["aliases"]
    usable: dict[str, Mapping[str, Any] | None] = {}
    for key, document in documents.items():
        try:
            good = document is not None and document_problem(document, aliases) is None
        except Exception:  # noqa: BLE001 - whatever it holds, it is no evidence
            good = False
        usable[key] = document if good else None
    return History(usable, aliases, settings.zone,
                   dt.timedelta(minutes=int(spec["deadline_minutes"])))


def evaluate(transition: str, run_key: str, document: Mapping[str, Any] | None,
             now: dt.datetime, settings: Settings,
             history: Mapping[str, Mapping[str, Any] | None] | None = None) -> list[StateCheck]:
    """Every check for one transition and run key (the state, then any warnings)."""
    spec = settings.expectations["transitions"][transition]
    day = dt.date.fromisoformat(run_key)
    today = local_today(now, settings.zone)
    whens = {name: mode["when"] for name, mode in spec["modes"].items()}
    mode = select_mode(whens, day, today)
    chosen = spec["modes"][mode] if mode is not None else spec
    expected = frozenset(chosen["expected"])
    required = frozenset(chosen.get("required") or ())
    quiet = quiet_reason(run_key, settings)
    base: dict[str, Any] = {"transition": transition, "run_key": run_key, "mode": mode}
    if document is None:
        return [_no_document(base, day, now, settings, quiet)]
    aliases = settings.expectations["aliases"]
    try:
        problem = document_problem(document, aliases)
        if problem is None:
            known = history if isinstance(history, History) else history_of(
                transition, history or {}, settings)
            return _document_checks(base, spec, document, now, settings, known, expected,
                                    required, quiet)
    except Exception as error:  # noqa: BLE001 - one document never breaks a run
        problem = f"interpreting it failed ({type(error).__name__})"
    return [StateCheck(**base, state="UNREADABLE", alerting=True,
                  detail=f"the document {short(spec['collection'])}/{run_key} cannot be "
                         f"interpreted: {problem}; fix or delete it (its other checks wait "
                         "until it can be read; every other run key is still checked)")]


def _document_checks(base: dict[str, Any], spec: Mapping[str, Any],
                     document: Mapping[str, Any], now: dt.datetime, settings: Settings,
                     history: History,
                     expected: frozenset[str], required: frozenset[str],
                     quiet: str | None) -> list[StateCheck]:
    aliases = settings.expectations["aliases"]
    done = completions(document, aliases)
    completed = tuple(sorted(set(done) & expected))
    missing_names = sorted(expected - set(done))
    missing = tuple(Missing(name, processor_status(name, settings.expectations["processors"]),
                            _last_reported(name, history, aliases),
                            _this_run(document, name, aliases, settings))
                    for name in missing_names)
    early = _early(base["run_key"], spec, document, done, expected, now, settings, history)
    reasons = {o.name: f"{o.rule}: {o.reason}" for o in early}
    missing = tuple(replace(m, early=reasons.get(m.name)) for m in missing)
    state = _transition_state(base, spec, document, done, completed, missing, now, quiet,
                              history, aliases, required, early)
    after = _calendar_overdue(base["run_key"], now, settings)
    if state.state == "WAITING" and not completed and after is not None:
        # a document without one expected completion (every report failed, or only unknown
        # and out-of-scope names) would otherwise wait forever: the deadline counts from the
        # first expected completion, and there is none
        state = replace(state, state="MISSING_RUN", alerting=True,
                        detectable=_calendar_moment(base["run_key"], settings),
                        detail=f"the calendar expects a run on {base['run_key']} but no expected "
                               f"processor has completed {after:g} hours after its midnight; "
                               f"missing {', '.join(m.described() for m in missing)}")
    checks = [state]
    unknown = unknown_names(document, aliases)
    if unknown:
        checks.append(StateCheck(**base, state="UNKNOWN_NAMES", completed=completed, alerting=True,
                            detail=f"names the registry does not know: {names_text(unknown)}; "
                                   "they are never counted (a misspelt alias?)"))
    failures = document.get("_mirror_failures")
    if isinstance(failures, int) and not isinstance(failures, bool) and failures > 0:
        checks.append(StateCheck(**base, state="MIRROR_FAILED", completed=completed,
                                 alerting=True,
                                 detail=f"{failures} row(s) of this run key could not be "
                                        "mirrored to BigQuery (see the orchestrator's "
                                        "MIRROR_FAILED log lines); Firestore is complete, "
                                        "history and dashboards that read BigQuery are not"))
    stale = stale_digest(document, spec)
    if stale:
        checks.append(StateCheck(**base, state="STALE_REGISTRY", completed=completed, alerting=True,
                            detail=f"not fired yet, and written by an orchestrator whose "
                                   f"expectations for this transition differ from the registry's "
                                   f"(transition digest {short(stale[:12])}, current "
                                   f"{str(spec['digest'])[:12]}); redeploy the orchestrator"))
    return checks


def stale_digest(document: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    """The document's transition digest when it makes the run key STALE_REGISTRY, else None.

    Only a run key that has not fired can be affected by a redeploy, and only
    the transition's own digest counts: editing canary settings or another
    transition changes nothing here. A document without one is legacy, not stale.
    """
    if document.get("_triggered"):
        return None
    digest = document.get("_transition_digest")
    if not isinstance(digest, str) or not digest or digest == spec.get("digest"):
        return None
    return digest


def _calendar_moment(run_key: str, settings: Settings) -> dt.datetime:
    """When MISSING_RUN holds: the run key's midnight plus ``missing_run_after_hours``."""
    day = dt.date.fromisoformat(run_key)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=settings.zone).astimezone(dt.UTC)
    return midnight + dt.timedelta(hours=float(settings.canary.get("missing_run_after_hours",
                                                                    30)))


def _calendar_overdue(run_key: str, now: dt.datetime, settings: Settings) -> float | None:
    """``missing_run_after_hours`` when the calendar expects a run on ``run_key`` and they
    have passed since its midnight (elapsed hours: DST days are 23 or 25 h), else None."""
    if run_key not in settings.calendar:
        return None
    day = dt.date.fromisoformat(run_key)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=settings.zone).astimezone(dt.UTC)
    hours = float(settings.canary.get("missing_run_after_hours", 30))
    return hours if now >= midnight + dt.timedelta(hours=hours) else None


def _no_document(base: dict[str, Any], day: dt.date, now: dt.datetime, settings: Settings,
                 quiet: str | None) -> StateCheck:
    run_key = day.isoformat()
    after = _calendar_overdue(run_key, now, settings)
    if after is not None:
        return StateCheck(**base, state="MISSING_RUN", alerting=True,
                          detectable=_calendar_moment(run_key, settings),
                          detail=f"the calendar expects a run on {run_key} but no document "
                                 f"exists {after:g} hours after its midnight: is the "
                                 "orchestrator being invoked at all?")
    detail = f"no document (quiet period: {quiet})" if quiet else "no document"
    return StateCheck(**base, state="NO_DATA", detail=detail, quiet=quiet)


def _transition_state(base: dict[str, Any], spec: Mapping[str, Any],
                      document: Mapping[str, Any], done: Mapping[str, dt.datetime | None],
                      completed: tuple[str, ...], missing: tuple[Missing, ...],
                      now: dt.datetime, quiet: str | None,
                      history: History,
                      aliases: Mapping[str, str], required: frozenset[str],
                      early: list[Overdue]) -> StateCheck:
    """The policy first, then LATE: at one instant a tier that holds fires, not alerts.

    LATE comes at the deadline, or before it when an early rule says a missing
    processor is not coming and the policy cannot fire without it.
    """
    common: dict[str, Any] = {**base, "completed": completed, "missing": missing}
    if document.get("_triggered"):
        reason = document.get("_trigger_reason") or "all_complete"
        detail = f"triggered ({short(reason)})"
        if reason == "deadline_partial":
            detail += "; warning: it fired without every expected processor"
        return StateCheck(**common, state="TRIGGERED", detail=detail)
    expected = frozenset(completed) | {m.name for m in missing}
    first = clock_start(document, done, expected)
    decision = policy.decide(policy.tiers_of(spec), expected, required,
                             {name: done.get(name) for name in completed}, first, now)
    grace = dt.timedelta(minutes=int(spec["grace_minutes"]))
    if decision.holds:
        since = decision.since or as_time(document.get("_last_completion_at"))
        # a tier comes due with no message; a firing left pending (its target failed) is
        # retried here too, once Pub/Sub has stopped redelivering
        pending = bool(document.get("_trigger_pending"))
        due = decision.reason if decision.reason != "all_complete" or pending else None
        failed = document.get("_trigger_error")
        failure = f"; the last attempt failed: {short(failed, 200)}" if failed else ""
        what = (f"all {len(completed)} expected processors completed"
                if decision.reason == "all_complete"
                else f"the policy holds ({decision.reason}, {len(completed)} complete)")
        if since is not None and now >= since + grace:
            return StateCheck(**common, state="STUCK", alerting=True, due=due,
                              detectable=since + grace,
                              detail=f"{what} by {since.isoformat()}, but the transition has "
                                     f"not fired {int(grace.total_seconds() // 60)} minutes "
                                     f"later{failure}")
        return StateCheck(**common, state="WAITING", due=due,
                          detail=f"{what}; within the grace period")
    deadline = dt.timedelta(minutes=int(spec["deadline_minutes"]))
    upcoming = f"; next: {decision.next.described()}" if (
        decision.next and spec.get("policy")) else ""
    gone = frozenset(o.name for o in early)
    if early and (first is None or now < first + deadline) and not policy.possible_without(
            policy.tiers_of(spec), expected, required, gone):
        since_first = elapsed(first, now) if first else dt.timedelta()
        reasons = "; ".join(f"{o.name} {o.reason}" for o in early)
        detail = (f"{len(completed)}/{len(completed) + len(missing)} complete "
                  f"{offset_text(since_first)} after the first completion, before the "
                  f"{int(deadline.total_seconds() // 60)}-minute deadline: {reasons}; missing "
                  f"{', '.join(m.described() for m in missing)}{upcoming}")
        if quiet:
            return StateCheck(**common, state="LATE", detail=f"{detail} (quiet period: {quiet})",
                              quiet=quiet)
        return StateCheck(**common, state="LATE", alerting=True, detail=detail,
                          detectable=min(o.since for o in early))
    if first is not None and now >= first + deadline:
        drift = [m.name for m in missing if m.last_reported is None and _others_report(
            m.name, history, aliases)]
        detail = f"{len(completed)}/{len(completed) + len(missing)} complete " \
                 f"{int(deadline.total_seconds() // 60)} minutes after the first completion; " \
                 f"missing {', '.join(m.described() for m in missing)}{upcoming}"
        if drift:
            silent = len([d for d in history.values() if d])
            detail += "; " + "; ".join(
                f"{name} has not reported for {silent} run keys; its upstream may be disabled"
                for name in drift)
        if quiet:
            return StateCheck(**common, state="LATE", detail=f"{detail} (quiet period: {quiet})",
                              quiet=quiet)
        return StateCheck(**common, state="LATE", alerting=True, detail=detail,
                          detectable=first + deadline)
    return StateCheck(**common, state="WAITING",
                      detail=f"{len(completed)}/{len(completed) + len(missing)} complete; within "
                             f"the deadline{upcoming}")


def _early(run_key: str, spec: Mapping[str, Any], document: Mapping[str, Any],
           done: Mapping[str, dt.datetime | None], expected: frozenset[str], now: dt.datetime,
           settings: Settings, history: History) -> list[Overdue]:
    """What the early rules (``canary.early``) say about this run key's missing processors."""
    rules = EarlyRules.of(settings.canary)
    if rules.silent_run_keys <= 0 and rules.learn_days <= 0:
        return []
    aliases = settings.expectations["aliases"]
    failed: dict[str, dt.datetime | None] = {}
    for key, entry in document.items():
        name = aliases.get(key) if isinstance(key, str) else None
        if name is None or name in done or not isinstance(entry, Mapping):
            continue
        status = entry.get("status")
        if isinstance(status, str) and status not in COMPLETING:
            failed[name] = as_time(entry.get("recorded_at")) or as_time(entry.get("reported_at"))
    return overdue(run_key, document, history, aliases, expected, done,
                   clock_start(document, done, expected), now, rules, failed,
                   silence_expects(spec, settings, now))


def silence_expects(spec: Mapping[str, Any], settings: Settings, now: dt.datetime,
                    ) -> Callable[[str], frozenset[str]]:
    """What another run key expected, as evidence of silence: by its mode, and nothing for
    a run key in a quiet period (a break's nights are no evidence)."""
    by_mode = expects_on(spec, local_today(now, settings.zone))

    def expects(key: str) -> frozenset[str]:
        return frozenset() if quiet_reason(key, settings) else by_mode(key)

    return expects


def expects_on(spec: Mapping[str, Any], today: dt.date) -> Callable[[str], frozenset[str]]:
    """The expected set of any run key of one transition (by its mode)."""
    whens = {name: mode["when"] for name, mode in spec["modes"].items()}

    def expects(run_key: str) -> frozenset[str]:
        mode = select_mode(whens, dt.date.fromisoformat(run_key), today)
        return frozenset((spec["modes"][mode] if mode is not None else spec)["expected"])

    return expects


def _this_run(document: Mapping[str, Any], name: str, aliases: Mapping[str, str],
              settings: Settings) -> str | None:
    """What a missing processor reported for this run key: a failed status is no report."""
    for key, entry in document.items():
        if key.startswith("_") or aliases.get(key) != name or not isinstance(entry, Mapping):
            continue
        status = entry.get("status")
        if not isinstance(status, str):
            continue
        when = as_time(entry.get("recorded_at")) or as_time(entry.get("reported_at"))
        at = f" at {when.astimezone(settings.zone).strftime('%H:%M')}" if when else ""
        return f"{printable(short(status))}{at}"
    return None


def _last_reported(name: str, history: History, aliases: Mapping[str, str]) -> str | None:
    reported = [run_key for run_key in history if name in history.done(run_key)]
    return max(reported) if reported else None


def _others_report(name: str, history: History, aliases: Mapping[str, str]) -> bool:
    """Whether other processors completed on run keys where ``name`` never did."""
    return any(history.done(run_key) for run_key in history)

