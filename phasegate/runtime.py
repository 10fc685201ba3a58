"""The runtime's shared vocabulary: standard library only.

The orchestrator, the canary and the generated artifacts all speak through
this module: which statuses complete a processor, how a run key selects a
transition's mode, and :class:`Expectations`, the generated data (the
orchestrator's Python module or the canary's JSON) as one checked object.
Nothing here parses YAML or imports pydantic or a Google client, so a Cloud
Function's cold start stays small.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

Status = Literal["success", "partial", "failed", "no_data", "skipped"]
COMPLETING: frozenset[str] = frozenset({"success", "partial"})
STATUSES: frozenset[str] = frozenset(get_args(Status))
When = Literal["before_today", "today", "tomorrow", "after_today"]
WHENS: tuple[str, ...] = get_args(When)
# What the canary says of a transition and run key (DESIGN's "Canary states"); the last three
# are warnings beside the state, CANARY_ERROR is the canary's own failure.
State = Literal["NO_DATA", "MISSING_RUN", "WAITING", "LATE", "STUCK", "UNREADABLE",
                "TRIGGERED", "MIRROR_FAILED", "UNKNOWN_NAMES", "STALE_REGISTRY", "CANARY_ERROR"]
STATES: tuple[str, ...] = get_args(State)

# The generated data's shape: a runtime built for another layout refuses it at cold start.
FORMAT = 2
_KEYS = ("format", "phasegate_version", "registry_digest", "pipeline", "timezone", "aliases",
         "processors", "transitions")


_DURATION = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: Any) -> dt.timedelta | None:
    """``45m``, ``2h``, ``1d1h30m`` as a timedelta; None for anything else.

    The one parser of durations: scenario files, ``--max-age``, and the
    registry's policy tiers all write them this way.
    """
    if not isinstance(text, str) or not text or _DURATION.sub("", text) != "":
        return None
    total = dt.timedelta()
    try:
        for amount, unit in _DURATION.findall(text):
            total += dt.timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:  # beyond what a timedelta holds: not a duration phasegate can use
        return None
    return total


def as_time(value: Any) -> dt.datetime | None:
    """A Firestore timestamp, or an ISO string from an older document, as aware UTC."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        # in UTC: time arithmetic in a zone with daylight saving adds wall-clock hours
        try:
            return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        except OverflowError:  # 0001-01-01T00:00+05:00 is before the first UTC time
            return None
    return None


# How a Firestore call is retried within its budget (the orchestrator's and the canary's
# stores alike): the client's default keeps trying a stopped server for minutes.
FIRESTORE_BACKOFF = (0.1, 1.0, 2.0)  # initial, maximum and multiplier of the delay, seconds


def printable(text: str) -> str:
    """Control and format characters (newlines, terminal escapes) shown escaped, never obeyed.

    The one escaper of text that comes from outside: a registry's file name in a generated
    comment, a file name in a finding, a processor name in an alert.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


class ExpectationsError(Exception):
    """The generated expectations are missing, unreadable or of another format."""


def content_digest(data: Mapping[str, Any]) -> str:
    """sha256 of the generated data itself (``content_digest`` and ``_generated`` aside).

    Written by ``generate`` and checked at load: a hand edit of a generated file
    (a name dropped from an expected set, a digest kept) fails at cold start
    instead of being served. The phasegate version is recorded, not hashed: an
    artifact another version wrote with the same content stays valid.
    """
    import hashlib

    body = {key: value for key, value in data.items()
            if key not in ("content_digest", "_generated", "phasegate_version")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def select_mode(whens: Mapping[str, str], run_key: dt.date, today: dt.date) -> str | None:
    """The mode whose ``when`` matches ``run_key`` relative to ``today``, or None.

    ``today`` and ``tomorrow`` match one day and win over the open ranges
    ``before_today`` and ``after_today``. None means the transition's own
    expectations apply.
    """
    days = (run_key - today).days
    exact = {"today": days == 0, "tomorrow": days == 1}
    ranges = {"before_today": days < 0, "after_today": days > 0}
    for table in (exact, ranges):
        for name, when in sorted(whens.items()):
            if table.get(when, False):
                return name
    return None


@dataclass(frozen=True)
class Expectation:
    """What one transition expects for one run key at one moment."""

    transition: str
    run_key: dt.date
    mode: str | None
    expected: frozenset[str]
    required: frozenset[str]


@dataclass(frozen=True)
class Expectations:
    """The generated expectations of one registry, as the runtime reads them.

    ``data`` is the plain data both generated artifacts carry; ``source``
    names the file it came from, for error messages.
    """

    data: Mapping[str, Any]
    source: str = "<generated>"

    @property
    def registry_digest(self) -> str:
        return str(self.data["registry_digest"])

    @property
    def version(self) -> str:
        return str(self.data["phasegate_version"])

    @property
    def timezone(self) -> str:
        return str(self.data["timezone"])

    @property
    def aliases(self) -> Mapping[str, str]:
        result: Mapping[str, str] = self.data["aliases"]
        return result

    @property
    def processors(self) -> Mapping[str, Mapping[str, Any]]:
        result: Mapping[str, Mapping[str, Any]] = self.data["processors"]
        return result

    @property
    def transitions(self) -> Mapping[str, Mapping[str, Any]]:
        result: Mapping[str, Mapping[str, Any]] = self.data["transitions"]
        return result

    def transition(self, name: str) -> Mapping[str, Any]:
        """One transition's spec; an unknown name names the known ones and the file."""
        if name not in self.transitions:
            known = ", ".join(sorted(self.transitions)) or "none"
            raise ExpectationsError(
                f"unknown transition {name!r} in {self.source} (it has: {known}); "
                "is PHASEGATE_TRANSITION right, and was the folder generated from this registry?")
        return self.transitions[name]

    def transition_digest(self, name: str) -> str:
        return str(self.transition(name)["digest"])

    def today(self, now: dt.datetime) -> dt.date:
        """Today's date in the registry's timezone (``now`` must be timezone-aware)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def expectation(self, transition: str, run_key: dt.date, now: dt.datetime) -> Expectation:
        """The mode, expected and required sets for ``transition`` and ``run_key`` at ``now``."""
        spec = self.transition(transition)
        whens = {name: mode["when"] for name, mode in spec["modes"].items()}
        mode = select_mode(whens, run_key, self.today(now))
        chosen = spec["modes"][mode] if mode is not None else spec
        return Expectation(transition, run_key, mode, frozenset(chosen["expected"]),
                           frozenset(chosen["required"]))

    def canonical_name(self, reported: str) -> str | None:
        """The canonical processor name for any alias, or None when the registry lacks it."""
        return self.aliases.get(reported)

    # -- loading --------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Any, source: str) -> Expectations:
        """Check the shape before anything relies on it: fail at load, not at a message."""
        if not isinstance(data, Mapping):
            raise ExpectationsError(f"{source}: not generated expectations; run "
                                    "`phasegate generate`")
        lacking = [key for key in _KEYS if key not in data]
        if lacking:
            raise ExpectationsError(
                f"{source} lacks {', '.join(lacking)}: it was not generated by this phasegate "
                "(or was edited); run `phasegate generate`")
        if data["format"] != FORMAT:
            raise ExpectationsError(
                f"{source} has format {data['format']!r}, this phasegate reads {FORMAT}: it "
                f"was generated by phasegate {data['phasegate_version']}; run "
                "`phasegate generate` with the phasegate version you deploy")
        if data.get("content_digest") != content_digest(data):
            raise ExpectationsError(
                f"{source} was edited after generation (its content does not match its "
                "content_digest); run `phasegate generate` and never edit generated files")
        problem = _shape_problem(data)
        if problem:
            raise ExpectationsError(f"{source}: {problem}; run `phasegate generate`")
        return cls(data, source)

    @classmethod
    def from_module(cls, module: ModuleType, source: str | None = None) -> Expectations:
        """The orchestrator's generated module (``EXPECTATIONS`` holds the data)."""
        where = source or getattr(module, "__file__", None) or module.__name__
        return cls.from_data(getattr(module, "EXPECTATIONS", None), str(where))

    @classmethod
    def load(cls, path: Path | str) -> Expectations:
        """A generated ``.py`` module or ``.json`` file, by path.

        A missing or broken file raises :class:`ExpectationsError` naming it,
        so a deployed function fails at cold start with one clear line.
        """
        path = Path(path)
        if not path.is_file():
            raise ExpectationsError(f"{path} is missing: run `phasegate generate` and deploy "
                                    "the folder it writes")
        if path.suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as error:
                raise ExpectationsError(f"{path} is unreadable ({error}); run "
                                        "`phasegate generate`") from error
            return cls.from_data(data, str(path))
        return cls.from_module(_import_file(path), str(path))


def _names_problem(value: Any, where: str) -> str | None:
    if isinstance(value, str) or not isinstance(value, list | tuple) or not all(
            isinstance(name, str) for name in value):
        return f"{where} is not a list of names"
    return None


def _shape_problem(data: Mapping[str, Any]) -> str | None:
    """What in the data the runtime could misread, or None: checked once, at load."""
    if not isinstance(data["aliases"], Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data["aliases"].items()):
        return "aliases is not a mapping of names"
    if not isinstance(data["processors"], Mapping) or not all(
            isinstance(p, Mapping) and {"phase", "enabled", "per_run_key"} <= set(p)
            for p in data["processors"].values()):
        return "processors is not a mapping of processor entries"
    if not isinstance(data["transitions"], Mapping):
        return "transitions is not a mapping"
    for name, spec in data["transitions"].items():
        where = f"transition {name!r}"
        if not isinstance(spec, Mapping) or not isinstance(spec.get("digest"), str):
            return f"{where} has no digest"
        if not isinstance(spec.get("collection"), str) or not isinstance(
                spec.get("modes"), Mapping):
            return f"{where} lacks its collection or modes"
        sets = [(f"{where} {key}", spec.get(key)) for key in ("expected", "required")]
        for mode_name, mode in spec["modes"].items():
            if not isinstance(mode, Mapping) or mode.get("when") not in WHENS:
                return f"{where} mode {mode_name!r} is malformed"
            sets += [(f"{where} mode {mode_name!r} {key}", mode.get(key))
                     for key in ("expected", "required")]
        for label, names in sets:
            problem = _names_problem(names, label)
            if problem:
                return problem
        problem = _firing_problem(spec, where)
        if problem:
            return problem
    return None


_TIER_MIN = re.compile(r"^[0-9]{1,3}(\.[0-9]+)?%$")
_TARGET_FIELDS = {"pubsub": ("topic", "message", "each"),
                  "http": ("url_env", "audience_env", "message", "each", "timeout_seconds")}


def _firing_problem(spec: Mapping[str, Any], where: str) -> str | None:
    """What in a transition's trigger settings (topic, auto_heal, policy, target) is misshapen."""
    for key in ("trigger_topic", "auto_heal", "policy", "target"):
        if key not in spec:
            return f"{where} lacks {key}"
    if spec["trigger_topic"] is not None and not isinstance(spec["trigger_topic"], str):
        return f"{where} trigger_topic is not a topic name"
    if not isinstance(spec["auto_heal"], bool):
        return f"{where} auto_heal is not true or false"
    if spec["auto_heal"] and not _is_count(spec.get("deadline_minutes")):
        return f"{where} has auto_heal but no deadline_minutes"
    policy = spec["policy"]
    if isinstance(policy, str) or not isinstance(policy, list | tuple):
        return f"{where} policy is not a list of tiers"
    for index, tier in enumerate(policy):
        if not isinstance(tier, Mapping) or set(tier) != {"after", "min"}:
            return f"{where} policy tier {index} is not {{after, min}}"
        if parse_duration(tier["after"]) is None:
            return f"{where} policy tier {index} after {tier['after']!r} is not a duration"
        low = tier["min"]
        if not (low in ("all", "required") or _is_count(low)
                or (isinstance(low, str) and _TIER_MIN.match(low))):
            return f"{where} policy tier {index} min {low!r} is not all, N, P% or required"
    return _target_problem(spec["target"], f"{where} target")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _target_problem(target: Any, where: str) -> str | None:
    if target is None:
        return None
    if not isinstance(target, Mapping) or target.get("kind") not in _TARGET_FIELDS:
        return f"{where} is not a pubsub or http target"
    kind = target["kind"]
    if set(target) != {"kind", *_TARGET_FIELDS[kind]}:
        return f"{where} does not have the fields of a {kind} target"
    names = ("topic",) if kind == "pubsub" else ("url_env",)
    optional = () if kind == "pubsub" else ("audience_env",)
    if not all(isinstance(target[name], str) and target[name] for name in names) or not all(
            target[name] is None or isinstance(target[name], str) for name in optional):
        return f"{where} names no {names[0]}"
    if target["message"] is not None and not isinstance(target["message"], Mapping):
        return f"{where} message is not a template (a mapping)"
    if target["each"] not in (None, "completed"):
        return f"{where} each is not null or completed"
    if kind == "http":
        timeout = target["timeout_seconds"]
        if (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                or not 0 < timeout <= 60):
            return f"{where} timeout_seconds is not a number of seconds in (0, 60]"
    return None


def _import_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_phasegate_generated_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ExpectationsError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a hand-broken file: say which, never a bare traceback
        raise ExpectationsError(f"{path} does not import ({type(error).__name__}: {error}); "
                                "run `phasegate generate`") from error
    return module


def processor_status(name: str, processors: Mapping[str, Mapping[str, Any]]) -> str:
    """How the registry sees a processor, for WAITING lines and alerts."""
    processor = processors.get(name)
    if processor is None:
        return "not in registry"
    if not processor["enabled"]:
        return f"disabled ({processor['disabled_reason']})"
    if not processor["per_run_key"]:
        return "season-level, never reports per run key"
    return "enabled"
