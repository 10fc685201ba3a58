"""Just enough cron to know how often the canary runs.

Five fields (minute hour day-of-month month day-of-week) with ``*``, numbers,
ranges, lists and steps, which is what Cloud Scheduler accepts. Only the
minute and hour fields matter for the longest gap between two runs.
"""

from __future__ import annotations

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31),
           ("month", 1, 12), ("day of week", 0, 7))
_NAMES = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
          "sep": 9, "oct": 10, "nov": 11, "dec": 12,
          "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


class CronError(ValueError):
    """The expression is not a valid five-field cron schedule."""


def parse(expression: str) -> list[frozenset[int]]:
    """The set of allowed values of each of the five fields."""
    parts = expression.split()
    if len(parts) != 5:
        raise CronError(f"a cron schedule has 5 fields, {expression!r} has {len(parts)}")
    return [_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]


def _digits(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true, and ``int("²")`` fails."""
    return text.isascii() and text.isdigit()


def _number(text: str, name: str, low: int, high: int) -> int:
    value = _NAMES.get(text.lower()) if not _digits(text) else int(text)
    if value is None or not low <= value <= high:
        raise CronError(f"{text!r} is not a valid {name} ({low}-{high})")
    return value


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        body, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not _digits(step_text) or int(step_text) == 0:
                raise CronError(f"step {step_text!r} in the {name} field must be a positive number")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = _number(first, name, low, high), _number(last, name, low, high)
            if end < start:
                raise CronError(f"range {body!r} in the {name} field runs backwards")
        else:
            start = _number(body, name, low, high)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


def longest_gap_minutes(expression: str) -> int:
    """The longest wait between two runs within a day (minute and hour fields)."""
    minutes, hours, *_ = parse(expression)
    times = sorted(h * 60 + m for h in hours for m in minutes)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    gaps.append(times[0] + 24 * 60 - times[-1])
    return max(gaps)
