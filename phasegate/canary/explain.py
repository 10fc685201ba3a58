"""``phasegate explain``: one screen on a transition and run key, from what Firestore holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from phasegate.canary.evaluate import Settings, as_time, completions, evaluate, run_keys
from phasegate.canary.incidents import incident_id


def explain(store: Any, settings: Settings, transition: str, run_key: str,
            now: dt.datetime) -> str:
    spec = settings.expectations["transitions"][transition]
    collection = spec["collection"]
    keys = sorted(set(run_keys(now, settings)) | {run_key})
    documents = store.read_documents((collection, k) for k in keys)
    history = {k: documents.get((collection, k)) for k in keys}
    document = history[run_key]
    checks = evaluate(transition, run_key, document, now, settings, history)
    incidents = store.read_incidents()
    main = checks[0]
    mode_spec = spec["modes"][main.mode] if main.mode else spec
    lines = [f"{transition} {run_key} (collection {collection}), as of {now.isoformat()}",
             f"mode: {main.mode or 'default'}; expects {len(mode_spec['expected'])}: "
             f"{', '.join(mode_spec['expected'])}",
             f"deadline {spec['deadline_minutes']} min after the first completion; grace "
             f"{spec['grace_minutes']} min; action {spec['action']}", ""]
    if document is None:
        lines.append("document: none")
    else:
        lines.append("document holds:")
        done = completions(document, settings.expectations["aliases"])
        for key in sorted(k for k in document if not k.startswith("_")):
            entry = document[key]
            status = entry.get("status") if isinstance(entry, dict) else entry
            when = as_time(entry.get("completed_at")) if isinstance(entry, dict) else None
            canonical = settings.expectations["aliases"].get(key)
            name = key if canonical in (key, None) else f"{key} -> {canonical}"
            counted = "counted" if canonical in done else "not counted"
            lines.append(f"  {name}: {status}, {when.isoformat() if when else '-'} ({counted})")
        for key in ("_first_completion_at", "_last_completion_at", "_mode", "_triggered",
                    "_triggered_at", "_trigger_reason", "_trigger_pending", "_trigger_error",
                    "_registry_digest"):
            if key in document:
                lines.append(f"  {key}: {document[key]}")
        if document.get("_unknown"):
            lines.append(f"  _unknown: {', '.join(sorted(document['_unknown']))}")
    lines.append("")
    if main.missing:
        lines.append("missing:")
        for missing in main.missing:
            last = missing.last_reported or "not within the lookback"
            lines.append(f"  {missing.name}: {missing.status}; last reported {last}")
        lines.append("")
    lines.append("the canary would report:")
    for check in checks:
        open_incident = incidents.get(check.dedup_key)
        if check.alerting:
            action = ("incident open since "
                      f"{open_incident[0].get('opened_at')}; renotify after renotify_hours"
                      if open_incident else "open an incident and alert")
        else:
            action = "no alert"
        lines.append(f"  {check.state}: {check.detail} -> {action}")
    stale = [k for k in incidents if k.startswith(f"{transition}/{run_key}/") and
             k not in {c.dedup_key for c in checks}]
    for key in stale:
        lines.append(f"  incident {incident_id(key)} would resolve")
    return "\n".join(lines) + "\n"
