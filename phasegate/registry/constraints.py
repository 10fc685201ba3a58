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


def trigger_topic_error(action: str, topic: str | None) -> str | None:
    if action == "trigger" and not topic:
        return "trigger_topic is required when action is trigger"
    return None


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
