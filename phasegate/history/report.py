"""``phasegate history`` as text (a table per transition) or JSON (format 1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from phasegate.history.compute import History, percentile
from phasegate.runtime import printable


def duration(seconds: float | None) -> str:
    """1h05m, 12m, 45s; '-' for none."""
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" if not secs else f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m" if not secs else f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace(
        "+00:00", "Z")


def as_json(history: History) -> dict[str, Any]:
    transitions = []
    for t in history.transitions:
        latencies, detections = t.latencies, t.detections
        transitions.append({
            "transition": t.transition,
            "run_keys": len(t.run_keys),
            "fired": sum(1 for r in t.run_keys if r.fired_at is not None),
            "latency_s": {"p50": percentile(latencies, 50), "p90": percentile(latencies, 90),
                          "max": max(latencies) if latencies else None,
                          "count": len(latencies)},
            "days_late": t.days_with("LATE"),
            "days_stuck": t.days_with("STUCK"),
            "detection_s": {"p50": percentile(detections, 50),
                            "max": max(detections) if detections else None},
            "firings": [{"run_key": r.run_key, "first_completion": _iso(r.first_completion),
                         "fired_at": _iso(r.fired_at), "reason": r.reason,
                         "latency_s": r.latency_s} for r in t.run_keys],
            "incidents": [{"run_key": i.run_key, "state": i.state,
                           "opened_at": _iso(i.opened_at), "resolved_at": _iso(i.resolved_at),
                           "detected_after_s": i.detected_after_s} for i in t.incidents],
        })
    return {"format": 1, "source": history.source, "from": history.first_day,
            "to": history.last_day, "transitions": transitions}


def as_text(history: History) -> str:
    lines = [f"history {history.first_day} .. {history.last_day} (from {history.source}; "
             "latency: first expected completion -> firing)"]
    header = (f"{'transition':24s} {'run keys':>8s} {'fired':>5s} {'p50':>8s} {'p90':>8s} "
              f"{'max':>8s} {'late':>4s} {'stuck':>5s} {'incidents':>9s} {'detection':>9s}")
    lines.append(header)
    for t in history.transitions:
        latencies, detections = t.latencies, t.detections
        lines.append(printable(
            f"{t.transition:24s} {len(t.run_keys):8d} "
            f"{sum(1 for r in t.run_keys if r.fired_at is not None):5d} "
            f"{duration(percentile(latencies, 50)):>8s} {duration(percentile(latencies, 90)):>8s} "
            f"{duration(max(latencies) if latencies else None):>8s} "
            f"{len(t.days_with('LATE')):4d} {len(t.days_with('STUCK')):5d} "
            f"{len(t.incidents):9d} "
            f"{duration(max(detections) if detections else None):>9s}"))
    incidents = [i for t in history.transitions for i in t.incidents]
    if incidents:
        lines.append("")
        lines.append("incidents (detection: detectable -> alerted):")
        for i in incidents:
            resolved = f", resolved {_iso(i.resolved_at)}" if i.resolved_at else ", open"
            lines.append(printable(f"  {i.state:13s} {i.transition} {i.run_key}: opened "
                                   f"{_iso(i.opened_at)}, detection "
                                   f"{duration(i.detected_after_s)}{resolved}"))
    return "\n".join(lines) + "\n"
