"""Render the deploy-time artifacts from the registry: pure text, no I/O.

The orchestrator's Python module and the canary's JSON carry everything the
runtime needs (expected and required sets, modes, aliases, timing, trigger
policies and targets, the registry and transition digests, the phasegate
version) so neither ever parses YAML or imports pydantic. Output is
deterministic: sorted keys and names, no timestamps, no machine paths.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from phasegate import __version__
from phasegate.registry.models import Registry, Transition, canonical_data
from phasegate.registry.semantics import (
    alias_map,
    digest,
    effective_enablement,
    transition_behaviour,
    transition_digest,
)
from phasegate.runtime import FORMAT, content_digest, printable

DO_NOT_EDIT = "do not edit; run `phasegate generate` after changing the registry"

# Every place an artifact records the phasegate version that wrote it.
_VERSION_SPOTS = re.compile(
    r"(by phasegate |PHASEGATE_VERSION = '|'phasegate_version': '|\"phasegate_version\": \"|"
    r"phasegate\[gcp\]==)(\d+\.\d+\.\d+[A-Za-z0-9.+-]*?)(?=[;'\"\s(]|$)", re.MULTILINE)


_GENERATED_MARK = re.compile(r"[Gg]enerated from .{1,400}? by phasegate \d+\.\d+")


def is_generated(text: str) -> bool:
    """Whether a file carries phasegate's header (in its first lines, where every renderer
    puts it): only such a file may be overwritten or shown in a diff."""
    return _GENERATED_MARK.search(text[:4096]) is not None


def recorded_version(text: str) -> str | None:
    """The phasegate version an artifact records, if any."""
    match = _VERSION_SPOTS.search(text)
    return match.group(2) if match else None


def same_content(expected: str, actual: str | None) -> bool:
    """Whether an artifact is current: the version it records is not compared.

    Upgrading phasegate does not make an artifact stale; only a difference in
    what the runtime would do (or read) does.
    """
    if actual is None:
        return False
    return actual == expected or _VERSION_SPOTS.sub(
        lambda match: match.group(1) + __version__, actual) == expected


@dataclass(frozen=True)
class Artifact:
    path: str  # relative to the repository root, posix
    text: str
    format: str = ""

    def placed(self, current: str | None) -> Artifact:
        """What the file should hold: this artifact, or (a Markdown file that marks a
        region for it, such as a README) the file with only that region replaced, in the
        file's own line endings. RegionError when the file's markers are malformed."""
        if current is None or self.format not in EMBEDDABLE:
            return self
        spot = region(current, self.format)
        if spot is None:
            return self
        start, stop = spot
        text = self.text.replace("\n", "\r\n") if "\r\n" in current else self.text
        return Artifact(self.path, current[:start] + text + current[stop:], self.format)


EMBEDDABLE = frozenset({"mermaid"})
MARKDOWN_HEADER = "<!-- Generated from "  # a whole Markdown artifact starts with it


class RegionError(ValueError):
    """A file's markers for a generated region are malformed: nothing may be written."""


def embed_markers(fmt: str) -> tuple[str, str]:
    """The comments that mark a generated region inside a hand-written Markdown file."""
    return f"<!-- phasegate:{fmt} -->", f"<!-- /phasegate:{fmt} -->"


def region(current: str, fmt: str) -> tuple[int, int] | None:
    """Where the generated region's text lies (between the two marker lines), or None when
    the file has no marker line; RegionError unless there is exactly one begin and one
    end line, in that order.

    A marker counts only alone on its own line and outside fenced code, so that a README
    may quote the markers in prose or in an example.
    """
    begin, end = embed_markers(fmt)
    fence: str | None = None
    begins: list[int] = []
    ends: list[int] = []
    offset = 0
    for line in current.splitlines(keepends=True):
        bare = line.strip()
        opening = bare[:3]
        if fence is None and opening in ("```", "~~~"):
            fence = opening
        elif fence is not None and bare.startswith(fence):
            fence = None
        elif fence is None and bare == begin:
            begins.append(offset + len(line))
        elif fence is None and bare == end:
            ends.append(offset)
        offset += len(line)
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise RegionError(
            f"its {begin} and {end} lines must appear once each, in that order, each alone "
            f"on its line and outside code blocks (found {len(begins)} and {len(ends)})")
    return begins[0], ends[0]


@dataclass(frozen=True)
class Inputs:
    """What generation reads besides the registry, read by the caller (renderers do no I/O)."""

    calendar: frozenset[str] = frozenset()  # run keys of canary.calendar


NO_INPUTS = Inputs()
Renderer = Callable[[Registry, str, Inputs], str]


def expectations(registry: Registry) -> dict[str, Any]:
    """Everything the runtime needs, as plain sorted data (read by :mod:`phasegate.runtime`)."""
    enabled = effective_enablement(registry)

    def transition_data(name: str, transition: Transition) -> dict[str, Any]:
        behaviour = transition_behaviour(registry, name, enabled)
        return {
            "digest": transition_digest(registry, name, enabled),
            **{key: behaviour[key] for key in ("from_phase", "to_phase", "collection", "action")},
            "trigger_topic": _topic(transition),
            "deadline_minutes": transition.deadline_minutes,
            "grace_minutes": transition.grace_minutes,
            "auto_heal": transition.auto_heal,
            "policy": [{"after": tier.after, "min": tier.min} for tier in transition.policy],
            "target": target_data(transition),
            **{key: behaviour[key] for key in ("expected", "required", "modes")},
        }

    data: dict[str, Any] = {
        "format": FORMAT,
        "phasegate_version": __version__,
        "pipeline": registry.pipeline,
        "timezone": registry.timezone,
        "registry_digest": digest(registry),
        "aliases": dict(sorted(alias_map(registry).items())),
        "processors": {
            name: {
                "phase": p.phase,
                "enabled": enabled[name],
                "per_run_key": p.per_run_key,
                "disabled_reason": _disabled_reason(registry, name),
            }
            for name, p in sorted(registry.processors.items())
        },
        "transitions": {
            name: transition_data(name, t) for name, t in sorted(registry.transitions.items())
        },
    }
    if registry.mirror is not None:  # only when set: a registry without it generates as before
        data["mirror"] = {"bigquery": {"table": registry.mirror.bigquery.table}}
    return {**data, "content_digest": content_digest(data)}


def _topic(transition: Transition) -> str | None:
    """The Pub/Sub topic firing publishes to, however it is spelled (as before targets)."""
    target = transition.effective_target()
    return target.pubsub.topic if target is not None and target.pubsub is not None else None


def target_data(transition: Transition) -> dict[str, Any] | None:
    """What firing does, one flat shape per kind; None when the transition never fires."""
    target = transition.effective_target()
    if transition.action != "trigger" or target is None:
        return None
    if target.pubsub is not None:
        pubsub = target.pubsub
        return {"kind": "pubsub", "topic": pubsub.topic, "message": _json(pubsub.message),
                "each": pubsub.each}
    assert target.http is not None
    http = target.http
    return {"kind": "http", "url_env": http.url_env, "audience_env": http.audience_env,
            "message": _json(http.message), "each": http.each,
            "timeout_seconds": http.timeout_seconds}


def _json(value: Any) -> Any:
    """A message template as JSON data, whatever YAML gave.

    PG112 rejects what JSON cannot hold (a date, .inf, a number as a key); a
    registry with such errors still generates, so this never fails: a date
    becomes its ISO text, a non-finite number null, a key text.
    """
    if isinstance(value, Mapping):
        return {key if isinstance(key, str) else str(key): _json(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _disabled_reason(registry: Registry, name: str) -> str | None:
    from phasegate.registry.semantics import describe_causes, disabled_causes

    causes = disabled_causes(registry, name)
    return describe_causes(causes) if causes else None


def _header(source: str, registry_digest: str, comment: str) -> list[str]:
    """The first two lines of every text artifact: where from, which phasegate, which digest.

    PG201 reads them back to tell a hand edit from a registry change or an upgrade.
    """
    return [f"{comment} Generated from {printable(source)} by phasegate {__version__}; "
            f"{DO_NOT_EDIT}.",
            f"{comment} Registry digest: {registry_digest}"]


def render_mermaid(registry: Registry, source: str, inputs: Inputs = NO_INPUTS) -> str:
    """The registry's graph as a Mermaid block in Markdown (GitHub renders it)."""
    from phasegate.graph import mermaid
    from phasegate.graph.model import build

    graph = build(registry)
    header = [f"<!-- {line[4:]} -->" for line in _header(source, graph.digest, "###")]
    return "\n".join([*header, "", "```mermaid", mermaid.render(graph).rstrip("\n"), "```"]
                     ) + "\n"


def render_python(registry: Registry, source: str, inputs: Inputs = NO_INPUTS) -> str:
    """The orchestrator's module: data only, read through :class:`phasegate.runtime.Expectations`.

    Pipeline code may import ``EXPECTED_PROCESSORS`` from it instead of keeping
    its own copy of a transition's list (PG202 points here).
    """
    data = expectations(registry)
    lines = [
        *_header(source, data["registry_digest"], "#"),
        '"""What the orchestrator expects, per transition: generated from the phasegate registry.',
        "",
        "Data only, standard library only: the deployed function reads it through",
        "phasegate.orchestrator, and pipeline code may import EXPECTED_PROCESSORS from here.",
        '"""',
        "",
        f"REGISTRY_DIGEST = {data['registry_digest']!r}",
        f"PHASEGATE_VERSION = {data['phasegate_version']!r}",
        "",
        f"EXPECTATIONS: dict = {_literal(data)}",
        "",
        "# Per transition: the processors it waits for, and those it never fires without.",
        "EXPECTED_PROCESSORS: dict[str, frozenset[str]] = {",
        "    name: frozenset(spec['expected'])",
        "    for name, spec in EXPECTATIONS['transitions'].items()",
        "}",
        "REQUIRED_PROCESSORS: dict[str, frozenset[str]] = {",
        "    name: frozenset(spec['required'])",
        "    for name, spec in EXPECTATIONS['transitions'].items()",
        "}",
        "",
    ]
    return "\n".join(lines)


def render_json(registry: Registry, source: str, inputs: Inputs = NO_INPUTS) -> str:
    """The canary's expectations: the runtime data, the canary settings and the calendar.

    Everything the deployed canary reads is in this one file, so its folder
    needs nothing else from the repository.
    """
    data = expectations(registry)
    canary = canonical_data(registry)["canary"]
    document = {
        "_generated": f"generated from {source} by phasegate {__version__}; {DO_NOT_EDIT}",
        **data,
        "canary": canary,
        "calendar": sorted(inputs.calendar),
    }
    document["content_digest"] = content_digest(document)  # covers the canary settings too
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_requirements(registry: Registry, source: str, inputs: Inputs = NO_INPUTS) -> str:
    """A deployable folder's requirements.txt: the phasegate that generated it, pinned."""
    return "\n".join([
        *_header(source, digest(registry), "#"),
        f"phasegate[gcp]=={__version__}",
        "",
    ])


def render_scheduler(registry: Registry, source: str, inputs: Inputs = NO_INPUTS) -> str:
    """A Cloud Scheduler HTTP job that runs the canary on the registry's schedule.

    ``${CANARY_URL}`` and ``${SCHEDULER_SERVICE_ACCOUNT}`` are filled in at deploy
    time (for example with envsubst); the registry holds no project details.
    """
    job = {  # a Cloud Scheduler REST resource: no fields of our own
        "name": f"projects/${{PROJECT}}/locations/${{REGION}}/jobs/phasegate-canary-"
                f"{_identifier(registry.pipeline, '-', 400)}",
        "description": f"phasegate canary for {registry.pipeline}; generated from {source} "
                       f"by phasegate {__version__} (registry digest {digest(registry)[:12]}), "
                       "do not edit",
        "schedule": registry.canary.schedule,
        "timeZone": registry.timezone,
        "attemptDeadline": "300s",
        "retryConfig": {"retryCount": 0},
        "httpTarget": {
            "uri": "${CANARY_URL}",
            "httpMethod": "POST",
            "oidcToken": {"serviceAccountEmail": "${SCHEDULER_SERVICE_ACCOUNT}"},
        },
    }
    return json.dumps(job, indent=2, sort_keys=True) + "\n"


def render_canary_monitoring(registry: Registry, source: str, inputs: Inputs = NO_INPUTS,
                             ) -> str:
    """A log-based metric counting canary heartbeats and a policy alerting on their absence.

    The canary writes one ``CANARY_HEARTBEAT`` log line per run; if none arrives
    for three schedule intervals (at least 30 minutes), the canary itself is
    broken or not running, which once went unnoticed for 2.5 months.
    """
    from phasegate.registry.cron import CronError, longest_gap_minutes

    try:
        interval = longest_gap_minutes(registry.canary.schedule)
    except CronError:
        interval = 15
    absent_seconds = max(3 * interval, 30) * 60
    metric = "phasegate_canary_heartbeat_" + _identifier(registry.pipeline, "_", 72)
    pipeline_label = json.dumps(registry.pipeline)  # a quoted filter string
    document = {
        "_generated": f"generated from {source} by phasegate {__version__}; {DO_NOT_EDIT}",
        "log_metric": {
            "name": metric,
            "description": "phasegate canary heartbeats (one per run)",
            "filter": 'jsonPayload.message =~ "^CANARY_HEARTBEAT" AND '
                      f"labels.phasegate_pipeline = {pipeline_label}",
        },
        "alert_policy": {
            "displayName": f"phasegate canary for {registry.pipeline} is not running",
            "combiner": "OR",
            "conditions": [{
                "displayName": f"no canary heartbeat for {absent_seconds // 60} minutes",
                "conditionAbsent": {
                    "filter": f'metric.type = "logging.googleapis.com/user/{metric}"',
                    "duration": f"{absent_seconds}s",
                    "aggregations": [{"alignmentPeriod": "300s",
                                      "perSeriesAligner": "ALIGN_COUNT"}],
                },
            }],
            "documentation": {
                "content": "The phasegate canary has not written a heartbeat. Check the "
                           "Cloud Scheduler job and the canary function's logs; see "
                           "docs/runbook.md (canary not running).",
                "mimeType": "text/markdown",
            },
        },
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_bigquery_schema(registry: Registry, source: str, inputs: Inputs = NO_INPUTS) -> str:
    """The BigQuery mirror's table schema: a JSON list of fields, as `bq mk --table` reads it.

    A schema file has no room for a comment: the phasegate header rides in the
    first field's description.
    """
    from phasegate.mirror.rows import schema_fields

    header = (f"Generated from {source} by phasegate {__version__} (registry digest "
              f"{digest(registry)}); {DO_NOT_EDIT}")
    return json.dumps(schema_fields(header), indent=2, ensure_ascii=False) + "\n"


def _identifier(text: str, joiner: str, limit: int) -> str:
    """``text`` as a Google resource id part: letters, digits and ``joiner``, at most ``limit``.

    A name cut short gets a hash of the whole, so two long names stay apart.
    """
    import hashlib

    cleaned = re.sub(r"[^A-Za-z0-9]+", joiner, text).strip(joiner) or "pipeline"
    if len(cleaned) <= limit:
        return cleaned
    return cleaned[:limit - 9] + joiner + hashlib.sha256(text.encode()).hexdigest()[:8]


RENDERERS: dict[str, Renderer] = {
    "python": render_python, "json": render_json, "requirements": render_requirements,
    "cloud-scheduler": render_scheduler, "canary-monitoring": render_canary_monitoring,
    "mermaid": render_mermaid, "bigquery-schema": render_bigquery_schema,
}


def render_all(registry: Registry, source: str, inputs: Inputs = NO_INPUTS,
               renderers: Mapping[str, Renderer] = RENDERERS) -> list[Artifact]:
    """Every artifact under ``generate:``, in registry order.

    ``renderers`` maps each format to its renderer; formats other packages own
    (the deployment plan) are added by :mod:`phasegate.generation`.
    """
    shown = printable(source)
    return [Artifact(target.path, renderers[target.format](registry, shown, inputs),
                     target.format) for target in registry.generate]


def _literal(value: Any, indent: int = 0, lists: bool = False) -> str:
    """A Python literal, one entry per line, sorted as given: stable and diff-friendly.

    Lists become tuples, except inside a message template (``lists``): a
    template is rendered by :func:`phasegate.policy.render`, which fills lists.
    """
    pad = "    " * (indent + 1)
    end = "    " * indent
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        target = "kind" in value  # a target's message is a template
        items = [f"{pad}{key!r}: "
                 f"{_literal(item, indent + 1, lists or (target and key == 'message'))},"
                 for key, item in value.items()]
        return "{\n" + "\n".join(items) + f"\n{end}}}"
    if lists and isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "\n".join(f"{pad}{_literal(item, indent + 1, lists)},"
                                   for item in value) + f"\n{end}]"
    if isinstance(value, list | tuple):
        if not value:
            return "()"
        inline = "(" + ", ".join(repr(v) for v in value) + ("," if len(value) == 1 else "") + ")"
        if len(inline) + len(pad) <= 90 and all(not isinstance(v, dict) for v in value):
            return inline
        items = [f"{pad}{_literal(item, indent + 1)}," for item in value]
        return "(\n" + "\n".join(items) + f"\n{end})"
    return repr(value)
