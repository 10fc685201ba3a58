"""Checks beyond what JSON Schema can say, shared by both validation paths.

Each function returns an error message or None. The pydantic models call
them in their validators (for precise, positioned messages) and the fast
path calls them on plain data, so each rule is written once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# A letter first: names starting with "_" are the Firestore document's metadata fields, and
# the orchestrator rejects them in messages; at most 256 characters, as messages allow.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,255}$"
ENV_NAME_PATTERN = r"^[A-Z_][A-Z0-9_]*$"
NOTIFY_CHANNELS = ("slack", "webhook", "log")
TARGET_KINDS = ("pubsub", "http")
# What phasegate.runtime.parse_duration reads (0m, 30m, 2h, 1h30m), in ASCII digits.
DURATION_PATTERN = r"^([0-9]+[dhms])+$"


def timezone_error(name: str) -> str | None:
    """An IANA zone must exist on this machine, with a suggestion when misspelt."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        import difflib

        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), 1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown IANA timezone {name!r}{hint}"
    return None


def env_name_error(value: str) -> str | None:
    """Secrets live in the environment; the registry only names the variable."""
    if "://" in value:
        return ("url_env names an environment variable; put the URL itself in the "
                "environment, never in the registry")
    if not re.fullmatch(ENV_NAME_PATTERN, value):
        return f"{value!r} is not an environment variable name (A-Z, 0-9, _)"
    return None


def quiet_period_error(start: Any, end: Any) -> str | None:
    if end < start:
        return f"quiet period ends ({end}) before it starts ({start})"
    return None


def modes_when_error(whens: Mapping[str, str]) -> str | None:
    """A run key must select exactly one mode."""
    seen: dict[str, str] = {}
    for name, when in whens.items():
        if when in seen:
            return (f"modes {seen[when]!r} and {name!r} both apply when {when!r}; "
                    "a run key must select exactly one mode")
        seen[when] = name
    return None


def trigger_topic_error(action: str, topic: str | None, target: Any = None) -> str | None:
    """Firing needs somewhere to go; ``trigger_topic`` is only the short form of a target."""
    if topic is not None and target is not None:
        return ("give trigger_topic or target, not both: trigger_topic: NAME is the short "
                "form of target: {pubsub: {topic: NAME}}")
    if action == "trigger" and not topic and target is None:
        return "trigger_topic is required when action is trigger (or a target: pubsub or http)"
    return None


def target_error(chosen: list[str]) -> str | None:
    if len(chosen) != 1:
        return "a target names exactly one of pubsub or http"
    return None


def duration_error(text: str) -> str | None:
    """A tier's ``after`` must be a duration the runtime reads the same way."""
    from phasegate.runtime import parse_duration

    if not re.fullmatch(DURATION_PATTERN, text) or parse_duration(text) is None:
        return f"{text!r} is not a duration such as 0m, 30m, 2h or 1h30m"
    return None


def min_error(value: Any) -> str | None:
    """A tier's ``min``: the runtime's own rule (phasegate.policy), so the two never differ."""
    from phasegate.policy import min_problem

    return min_problem(value)


def cron_error(expression: str) -> str | None:
    """Why a canary schedule is not a cron expression phasegate understands, or None."""
    from phasegate.registry.cron import CronError, longest_gap_minutes

    try:
        longest_gap_minutes(expression)
    except CronError as error:
        return f"canary schedule {expression!r} is not valid cron: {error}"
    return None


def notify_error(chosen: list[str]) -> str | None:
    if len(chosen) != 1:
        return "each notify entry names exactly one channel: slack, webhook or log"
    return None
