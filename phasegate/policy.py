"""When a transition may fire, and what firing sends: pure, standard library only.

A policy is a list of tiers, relaxations over the time since the first
expected completion: ``{after: 30m, min: 4}`` holds once 30 minutes have
passed and at least 4 expected processors, every required one among them,
have completed. Every expected one complete always fires at once
(``all_complete``). The orchestrator decides on each delivery, the canary
on its schedule (a tier can start to hold with no new message), both with
these functions, so they never disagree.

A target's message template is JSON with ``{placeholder}`` strings; a string
that is exactly one placeholder takes that value's JSON type (a list for
``completed``), anything else is text (``{{`` and ``}}`` are literal braces).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from phasegate.runtime import parse_duration

PLACEHOLDERS = ("run_key", "transition", "mode", "reason", "trigger_id", "completed", "missing",
                "processor")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PERCENT = re.compile(r"^([0-9]{1,3}(?:\.[0-9]+)?)%$")
MAX_TEMPLATE_DEPTH = 16


@dataclass(frozen=True)
class Tier:
    """One relaxation: ``after`` as written (``30m``), and the least that must be complete."""

    after: str
    min: str | int  # "all" | N | "P%" | "required"
    reason: str | None = None  # a tier written as auto_heal fires as deadline_partial

    @property
    def delay(self) -> dt.timedelta:
        return parse_duration(self.after) or dt.timedelta()

    @property
    def fires_as(self) -> str:
        return self.reason or f"tier:{self.after}"


def min_problem(value: Any) -> str | None:
    """Why ``value`` is not a tier's ``min`` (all, N >= 1, "P%" with 0 < P <= 100, required)."""
    if value in ("all", "required"):
        return None
    if isinstance(value, bool):
        return "min is true or false; write all, a count, a percentage or required"
    if isinstance(value, int):
        return None if value >= 1 else f"min {value} must be at least 1"
    if isinstance(value, str) and (match := _PERCENT.match(value)):
        percent = float(match.group(1))
        return None if 0 < percent <= 100 else f"min {value} must be above 0% and at most 100%"
    return f"min {value!r} is not all, a count, a percentage (\"60%\") or required"


def tiers_of(spec: Mapping[str, Any]) -> tuple[Tier, ...]:
    """A transition's tiers as generated: its policy, then auto_heal's tier at the deadline."""
    tiers = [Tier(str(t["after"]), t["min"]) for t in spec.get("policy") or ()]
    if spec.get("auto_heal"):
        tiers.append(Tier(f"{int(spec['deadline_minutes'])}m", "required", "deadline_partial"))
    return tuple(tiers)


def needed(tier: Tier, expected_count: int) -> int:
    """How many expected processors ``tier`` needs complete, at most all of them.

    A percentage is rounded up; ``required`` needs only the required ones (so
    at least one completion: the clock starts at the first).
    """
    if tier.min == "all":
        return expected_count
    if tier.min == "required":
        return min(1, expected_count)
    if isinstance(tier.min, int):
        return min(tier.min, expected_count)
    match = _PERCENT.match(str(tier.min))
    percent = float(match.group(1)) if match else 100.0
    return min(expected_count, max(1, math.ceil(percent * expected_count / 100 - 1e-9)))


@dataclass(frozen=True)
class NextTier:
    """The tier to wait for, and what it still needs: for LATE alerts and explain."""

    tier: Tier
    at: dt.datetime | None  # when it becomes due (None: first completion not known)
    needs: int  # expected completions it needs in all
    has: int
    lacking_required: tuple[str, ...]

    def described(self) -> str:
        parts = [f"tier {self.tier.after} ({_min_text(self.tier.min)})"]
        wants = []
        if self.has < self.needs:
            wants.append(f"{self.needs - self.has} more of the expected "
                         f"({self.has}/{self.needs} complete)")
        if self.lacking_required:
            wants.append(f"required {', '.join(self.lacking_required)}")
        if self.at is not None:
            parts.append(f"due {self.at.astimezone(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")
        parts.append("needs " + " and ".join(wants) if wants else "holds once due")
        return " ".join(parts)


@dataclass(frozen=True)
class Decision:
    """Whether the transition may fire now, why, since when, and otherwise what is next."""

    holds: bool
    reason: str | None = None  # all_complete | tier:<after> | deadline_partial
    since: dt.datetime | None = None  # when the condition started to hold
    next: NextTier | None = None


def decide(tiers: Sequence[Tier], expected: frozenset[str], required: frozenset[str],
           completed_at: Mapping[str, dt.datetime | None], first: dt.datetime | None,
           now: dt.datetime) -> Decision:
    """Whether a transition may fire at ``now``.

    ``completed_at`` maps each completed processor to its completion time
    (None when an older document does not say); only expected ones count.
    ``first`` is the first expected completion, the start of every tier's clock.
    """
    # elapsed time, never wall-clock time: aware datetimes in one zone add as wall clocks
    first = _utc(first)
    now = now.astimezone(dt.UTC)
    done = {name: _utc(when) for name, when in completed_at.items() if name in expected}
    if expected and len(done) == len(expected):
        return Decision(True, "all_complete", _latest(done.values()))
    waiting: NextTier | None = None
    lacking = tuple(sorted(required - set(done)))
    for tier in tiers:
        count = needed(tier, len(expected))
        due = first + tier.delay if first is not None else None
        if due is not None and due <= now and len(done) >= count and not lacking and done:
            return Decision(True, tier.fires_as, _since(tier, due, done, required, count))
        if waiting is None or waiting.at is None or waiting.at <= now:
            # the first tier not yet due; when every one is due, the last (the weakest)
            waiting = NextTier(tier, due, count, len(done), lacking)
    return Decision(False, next=waiting)


def possible_without(tiers: Sequence[Tier], expected: frozenset[str], required: frozenset[str],
                     gone: frozenset[str]) -> bool:
    """Whether some tier can still hold if the processors in ``gone`` never complete.

    All complete needs every expected one, so without tiers it cannot; a tier
    needs its count and every required processor among those left.
    """
    left = expected - gone
    if not gone & expected:
        return True
    if not required <= left:
        return False
    return any(len(left) >= needed(tier, len(expected)) for tier in tiers)


def _since(tier: Tier, due: dt.datetime, done: Mapping[str, dt.datetime | None],
           required: frozenset[str], count: int) -> dt.datetime:
    """When ``tier`` started to hold: its due time, or the completion that satisfied it."""
    times = sorted(t for t in done.values() if t is not None)
    moments = [due]
    if count and len(times) >= count:
        moments.append(times[count - 1])
    moments.extend(t for name in required if (t := done.get(name)) is not None)
    return max(moments)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(dt.UTC) if moment is not None else None


def _latest(times: Iterable[dt.datetime | None]) -> dt.datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _min_text(value: str | int) -> str:
    if value == "all":
        return "all expected"
    if value == "required":
        return "the required ones"
    if isinstance(value, int):
        return f"at least {value}"
    return f"at least {value} of the expected"


def resolved_min(tier: Tier, expected_count: int, required_count: int) -> int:
    """A tier's strictness as a number, to check that tiers only relax (PG112)."""
    if tier.min == "required":
        return max(required_count, needed(tier, expected_count))
    return max(needed(tier, expected_count), required_count)


# -- the message ---------------------------------------------------------------------


def trigger_id(transition: str, run_key: str, processor: str | None = None) -> str:
    """The identity of one firing message: the downstream drops a second one by it."""
    return f"{transition}/{run_key}" + (f"/{processor}" if processor else "")


def template_problems(template: Any, each: str | None,
                      path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with a message template: unknown placeholders, values JSON cannot hold."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if len(path) > MAX_TEMPLATE_DEPTH:
        return [(path, f"the template nests deeper than {MAX_TEMPLATE_DEPTH} levels")]
    if isinstance(template, Mapping):
        for key, value in template.items():
            if not isinstance(key, str):
                problems.append(((*path, str(key)), f"a key is {type(key).__name__} {key!r}; "
                                 "JSON keys are text"))
            problems.extend(template_problems(value, each, (*path, str(key))))
    elif isinstance(template, list):
        for index, value in enumerate(template):
            problems.extend(template_problems(value, each, (*path, index)))
    elif isinstance(template, str):
        for name in _placeholders(template):
            if name is None:
                problems.append((path, f"{template!r} has a lone brace; write {{{{ or }}}} "
                                       "for a literal one"))
            elif name not in PLACEHOLDERS:
                problems.append((path, f"unknown placeholder {{{name}}}; known: "
                                       f"{', '.join(PLACEHOLDERS)}"))
            elif name == "processor" and each != "completed":
                problems.append((path, "{processor} needs each: completed (one message per "
                                       "completed processor)"))
    elif isinstance(template, float) and not math.isfinite(template):
        problems.append((path, f"{template} is not a JSON number"))
    elif not (template is None or isinstance(template, bool | int | float)):
        problems.append((path, f"{template!r} ({type(template).__name__}) renders to no JSON "
                               "value; quote it to send it as text"))
    return problems


def _placeholders(text: str) -> list[str | None]:
    """The placeholder names in ``text``; None for a lone brace."""
    found: list[str | None] = []
    for match in _PLACEHOLDER.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        found.append(match.group(1) if match.group(1) is not None else None)
    return found


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """The message body: ``template`` with its placeholders filled from ``values``."""
    if isinstance(template, Mapping):
        return {key: render(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, values) for value in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template)
    if whole and whole.group(1) is not None:
        return values.get(whole.group(1))

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        value = values.get(match.group(1) or "")
        if value is None:
            return ""
        if isinstance(value, list | tuple):
            return ",".join(str(item) for item in value)
        return str(value)

    return _PLACEHOLDER.sub(substitute, template)
