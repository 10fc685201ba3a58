"""``phasegate explain``: one screen on a transition and run key, from what Firestore holds.

Whatever the document holds, it is explained, never a crash: a malformed
document is shown as it is, with what makes it UNREADABLE; every text from it
is shortened and its control characters escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from phasegate.canary.early import (
    EarlyRules,
    History,
    completions,
    offset_text,
    silent_for,
    usual_times,
)
from phasegate.canary.evaluate import (
    Settings,
    clock_start,
    document_problem,
    evaluate,
    history_keys,
    history_of,
    names_text,
    short,
    silence_expects,
)
from phasegate.canary.incidents import incident_id
from phasegate.runtime import as_time, printable

MAX_ENTRIES_SHOWN = 60
METADATA = ("_first_completion_at", "_last_completion_at", "_mode", "_triggered",
            "_triggered_at", "_trigger_reason", "_trigger_pending", "_trigger_error",
            "_registry_digest", "_transition_digest")


def explain(store: Any, settings: Settings, transition: str, run_key: str,
            now: dt.datetime) -> str:
    spec = settings.expectations["transitions"][transition]
    collection = spec["collection"]
    rules = EarlyRules.of(settings.canary)
    day = dt.date.fromisoformat(run_key)
    window = {(day - dt.timedelta(days=n)).isoformat() for n in range(rules.history_days + 1)}
    keys = sorted(set(history_keys(now, settings)) | window)
    documents = store.read_documents((collection, k) for k in keys)
    history = history_of(transition, {k: documents.get((collection, k)) for k in keys},
                         settings)
    document = documents.get((collection, run_key))
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
        lines += _document_lines(document, settings.expectations["aliases"])
    lines.append("")
    lines += _policy_lines(spec, mode_spec, document, main, settings, now)
    if main.missing:
        lines.append("missing:")
        for missing in main.missing:
            last = missing.last_reported or "not within the documents read"
            this_run = f"; this run key: {missing.this_run}" if missing.this_run else ""
            lines.append(f"  {missing.name}: {missing.status}; last reported {last}{this_run}")
        lines.append("")
    lines += _early_lines(rules, spec, mode_spec, run_key, document, history, main, settings,
                          now)
    lines.append("the canary would report:")
    for check in checks:
        open_incident = incidents.get(check.dedup_key)
        if check.alerting:
            opened = open_incident[0].get("opened_at") if open_incident and isinstance(
                open_incident[0], Mapping) else None
            action = (f"incident open since {short(opened, 40)}; renotify after "
                      "renotify_hours" if open_incident else "open an incident and alert")
        else:
            action = "no alert"
        lines.append(f"  {check.state}: {check.detail} -> {action}")
    stale = [k for k in incidents if k.startswith(f"{transition}/{run_key}/") and
             k not in {c.dedup_key for c in checks}]
    for key in stale:
        if main.state == "UNREADABLE":
            lines.append(f"  incident {incident_id(key)} stays as it is until the document "
                         "can be read")
        else:
            lines.append(f"  incident {incident_id(key)} would resolve")
    return "\n".join(printable(line) for line in lines) + "\n"


def _policy_lines(spec: Mapping[str, Any], mode_spec: Mapping[str, Any], document: Any,
                  main: Any, settings: Settings, now: dt.datetime) -> list[str]:
    """Each tier of the policy at ``now``: due or not, what it needs, whether it holds."""
    from phasegate import policy

    tiers = policy.tiers_of(spec)
    if not tiers:
        return ["policy: fire when every expected processor is complete", ""]
    expected = frozenset(mode_spec["expected"])
    required = frozenset(mode_spec.get("required") or ())
    aliases = settings.expectations["aliases"]
    usable = isinstance(document, Mapping) and document_problem(document, aliases) is None
    done = completions(document, aliases) if usable else {}
    have = {name: when for name, when in done.items() if name in expected}
    first = clock_start(document, done, expected) if usable else None
    lines = [f"policy ({len(have)}/{len(expected)} complete; required: "
             f"{', '.join(sorted(required)) or 'none'}):"]
    for tier in tiers:
        due = first + tier.delay if first is not None else None
        single = policy.decide((tier,), expected, required, have, first, now)
        when = f"due {due.astimezone(settings.zone).isoformat()}" if due else "not started"
        state = "holds" if single.holds else (
            single.next.described() if single.next else "does not hold")
        lines.append(f"  {{after: {tier.after}, min: {tier.min}}} -> {tier.fires_as}: "
                     f"{when}; {state}")
    if main.due:
        lines.append(f"  the canary fires it: {main.due}")
    lines.append("")
    return lines


def _early_lines(rules: EarlyRules, spec: Mapping[str, Any], mode_spec: Mapping[str, Any],
                 run_key: str, document: Any, history: History, main: Any,
                 settings: Settings, now: dt.datetime) -> list[str]:
    """What the early rules know: each expected processor's learned time, and the verdicts."""
    if rules.silent_run_keys <= 0 and rules.learn_days <= 0:
        return ["early rules: off (canary.early)", ""]
    aliases = settings.expectations["aliases"]
    learned = usual_times(run_key, history, aliases, rules)
    lines = [f"early rules (silent for {rules.silent_run_keys or 'off'} run keys; learned from "
             f"{rules.learn_days or 'off'} days, at least {rules.min_samples} completions, "
             f"slack {rules.slack_minutes:g} min):"]
    verdicts = {m.name: m.early for m in main.missing if m.early}
    readable = history.get(run_key) is not None
    done = history.done(run_key)
    for name in mode_spec["expected"]:
        usual = learned.get(name)
        known = (f"usually by {offset_text(usual.latest)} (median {offset_text(usual.median)},"
                 f" {usual.samples} completions)" if usual else "not learned yet (fewer than "
                 f"{rules.min_samples} completions)")
        if not readable:
            state = "no document" if document is None else "the document cannot be read"
        elif name in verdicts:
            state = f"late by the {verdicts[name]}"
        elif name in done:
            state = "complete"
        else:
            count, _ = silent_for(name, run_key, history, aliases,
                                  silence_expects(spec, settings, now))
            state = f"missing (silent for {count} run keys); not late by either rule yet"
        lines.append(f"  {name}: {known}; {state}")
    lines.append("")
    return lines


def _document_lines(document: Any, aliases: Mapping[str, str]) -> list[str]:
    if not isinstance(document, Mapping):
        return [f"document: {short(repr(document), 200)}"]
    problem = document_problem(document, aliases)
    done = completions(document, aliases) if problem is None else {}
    lines = ["document holds:"]
    names = sorted(k for k in document if isinstance(k, str) and not k.startswith("_"))
    for key in names[:MAX_ENTRIES_SHOWN]:
        entry = document[key]
        if isinstance(entry, Mapping):
            status: Any = entry.get("status")
            when = as_time(entry.get("completed_at"))
        else:
            status, when = entry, None
        canonical = aliases.get(key)
        name = short(key) if canonical in (key, None) else f"{short(key)} -> {canonical}"
        counted = "counted" if canonical in done else "not counted"
        lines.append(f"  {name}: {short(status, 60)}, {when.isoformat() if when else '-'} "
                     f"({counted})")
    if len(names) > MAX_ENTRIES_SHOWN:
        lines.append(f"  ... and {len(names) - MAX_ENTRIES_SHOWN} more names")
    for key in METADATA:
        if key in document:
            lines.append(f"  {key}: {short(document[key], 200)}")
    unknown = document.get("_unknown")
    if isinstance(unknown, Mapping) and unknown:
        lines.append(f"  _unknown: {names_text(sorted(str(k) for k in unknown))}")
    elif unknown:
        lines.append(f"  _unknown: {short(repr(unknown), 200)}")
    if problem:
        lines.append(f"  malformed: {problem}")
    return lines
