"""Check the generated JSON resources in ``deploy/`` against Google's discovery documents: pure.

A misspelt field in a Scheduler job or an alert policy is silently dropped or
rejected only at deploy time; checking each field against the API's own
schema (known names, JSON types, enums, formats such as ``google-duration``,
output-only fields, fields whose description starts "Required") catches it
in CI. Discovery documents mark few fields required, so "required" here is
what their descriptions say. The names in them (the job id, the metric id)
are held to the same rules as the plan's own (:data:`~.names.RULES`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from phasegate.deploy.names import name_problem, scheduler_job_id

Severity = Literal["error", "warning"]
Discovery = Mapping[str, Mapping[str, Any]]  # "logging.v2" -> the discovery document


@dataclass(frozen=True)
class Part:
    """Where in a generated document an API resource sits, and which schema it follows."""

    key: str | None  # None: the whole document
    document: str  # discovery document, "api.version"
    schema: str


@dataclass(frozen=True)
class Kind:
    """A generated format: its resources and the wrapper keys of our own."""

    parts: tuple[Part, ...]
    own_keys: frozenset[str] = frozenset()


KINDS: dict[str, Kind] = {
    "cloud-scheduler": Kind((Part(None, "cloudscheduler.v1", "Job"),)),
    "canary-monitoring": Kind((Part("log_metric", "logging.v2", "LogMetric"),
                               Part("alert_policy", "monitoring.v3", "AlertPolicy")),
                              frozenset({"_generated"})),
}


@dataclass(frozen=True)
class ResourceFinding:
    """One problem in a generated resource, at a JSON path (``$.httpTarget.uri``)."""

    resource: str
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.resource}: {self.path}: {self.severity}: {self.message}"


REQUIRED = re.compile(r"^Required(\.|, except when used with Update)")
FORMATS: dict[str, re.Pattern[str]] = {
    "google-duration": re.compile(r"^-?\d+(\.\d{1,9})?s$"),
    "google-datetime": re.compile(
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"),
    "int64": re.compile(r"^-?\d+$"),
    "uint64": re.compile(r"^\d+$"),
    "byte": re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$"),
    "google-fieldmask": re.compile(r"^[A-Za-z0-9_.,]*$"),
}
INTEGER_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1)}
_Issue = tuple[str, str, Severity]
# The names in each kind of document: (part key, field, kind of name in names.RULES).
# A Scheduler job's name is its full path; the job id is its last part.
NAMED: dict[str, tuple[tuple[str | None, str, str], ...]] = {
    "cloud-scheduler": ((None, "name", "scheduler_job"),
                        (None, "description", "scheduler_description")),
    "canary-monitoring": (("log_metric", "name", "log_metric"),
                          ("alert_policy", "displayName", "alert_display_name")),
}


def check_resource_text(kind: str, text: str, discovery: Discovery,
                        label: str) -> list[ResourceFinding]:
    """Findings for one generated file's text (a file that is not JSON is one finding)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        return [ResourceFinding(label, "$", f"not JSON: {error}")]
    except RecursionError:
        return [ResourceFinding(label, "$", "nested too deeply to be a resource")]
    return check_resource(kind, document, discovery, label)


def check_resource(kind: str, document: Any, discovery: Discovery,
                   label: str) -> list[ResourceFinding]:
    """Findings for one generated document of format ``kind`` (see :data:`KINDS`)."""
    spec = KINDS[kind]
    issues: list[_Issue] = []
    if not isinstance(document, dict):
        issues.append(("$", f"expected an object, found {_json_type(document)}", "error"))
    else:
        wrapped = {part.key for part in spec.parts if part.key}
        for key in document:
            if wrapped and key not in wrapped | spec.own_keys:
                issues.append((f"$.{key}", f"unknown key {key!r} (expected "
                               f"{', '.join(sorted(wrapped))})", "error"))
        for part in spec.parts:
            api = discovery[part.document]
            schemas = api["schemas"]
            path = "$" if part.key is None else f"$.{part.key}"
            if part.key is not None and part.key not in document:
                issues.append((path, f"missing: the {part.schema} resource "
                               f"({part.document})", "error"))
                continue
            value = document if part.key is None else document[part.key]
            issues.extend(check_value(value, {"$ref": part.schema}, schemas, path))
        issues.extend(_check_names(kind, document))
    return [ResourceFinding(label, path, message, severity)
            for path, message, severity in issues]


def _check_names(kind: str, document: Mapping[str, Any]) -> Iterator[_Issue]:
    """Names Google Cloud would reject (the schema says only "string")."""
    for key, field, rule in NAMED.get(kind, ()):
        part = document if key is None else document.get(key)
        value = part.get(field) if isinstance(part, dict) else None
        if not isinstance(value, str):
            continue  # missing or of the wrong type: the schema check says so
        name = value.rsplit("/", 1)[-1] if rule == "scheduler_job" else value
        problem = name_problem(rule, name)
        if not problem:
            continue
        path = f"$.{field}" if key is None else f"$.{key}.{field}"
        deployed = scheduler_job_id(value) if rule == "scheduler_job" else None
        if deployed is not None and name_problem(rule, deployed) is None:
            # the plan deploys the job under an id made valid; only this file is wrong
            yield (path, f"{problem}; the plan deploys the job as {deployed!r}, but a job "
                   "created from this file would be rejected", "warning")
        else:
            yield path, problem, "error"


def check_value(value: Any, schema: Mapping[str, Any], schemas: Mapping[str, Any],
                path: str) -> Iterator[_Issue]:
    """Every issue of ``value`` against a discovery schema node."""
    if "$ref" in schema:
        name = schema["$ref"]
        yield from check_value(value, schemas[name], schemas, path)
        return
    kind = schema.get("type")
    if kind == "object":
        yield from _check_object(value, schema, schemas, path)
    elif kind == "array":
        if not isinstance(value, list):
            yield path, f"expected an array, found {_json_type(value)}", "error"
            return
        for index, item in enumerate(value):
            yield from check_value(item, schema.get("items", {}), schemas, f"{path}[{index}]")
    elif kind in ("string", "integer", "number", "boolean"):
        yield from _check_scalar(value, schema, path)


def _check_object(value: Any, schema: Mapping[str, Any], schemas: Mapping[str, Any],
                  path: str) -> Iterator[_Issue]:
    if not isinstance(value, dict):
        yield path, f"expected an object, found {_json_type(value)}", "error"
        return
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        where = f"{path}.{key}"
        if key in properties:
            field = properties[key]
            if field.get("readOnly"):
                yield where, f"{key!r} is output only: the API sets it", "error"
            if field.get("deprecated"):
                yield where, f"{key!r} is deprecated", "warning"
            yield from check_value(item, field, schemas, where)
        elif extra is not None:
            yield from check_value(item, extra, schemas, where)
        else:
            yield where, _unknown(key, properties, schema.get("id", "this object")), "error"
    for key, field in properties.items():
        if key not in value and REQUIRED.match(field.get("description", "")):
            yield f"{path}.{key}", f"{key!r} is required", "error"


def _unknown(key: str, properties: Mapping[str, Any], owner: str) -> str:
    close = difflib.get_close_matches(key, list(properties), 1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{owner} has no field {key!r}{hint}"


def _check_scalar(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[_Issue]:
    kind, form = schema.get("type"), schema.get("format")
    if kind == "string" and form in ("int64", "uint64") and isinstance(value, int):
        value = str(value)  # 64-bit integers travel as strings, but numbers are accepted
    if kind == "integer" and form in ("int64", "uint64") and isinstance(value, str):
        kind = "string"
    if kind == "string":
        if not isinstance(value, str):
            yield path, f"expected a string, found {_json_type(value)}", "error"
            return
        enum = schema.get("enum")
        if enum is not None and value not in enum:
            close = difflib.get_close_matches(value, enum, 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            yield path, f"{value!r} is not one of {', '.join(enum)}{hint}", "error"
        elif enum is not None and value in _deprecated_values(schema):
            yield path, f"{value!r} is deprecated", "warning"
        pattern = FORMATS.get(form or "")
        if pattern is not None and not pattern.match(value):
            yield path, f"{value!r} is not a {form} (e.g. {_example(form or '')})", "error"
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            yield path, f"expected an integer, found {_json_type(value)}", "error"
            return
        low, high = INTEGER_RANGES.get(form or "", (None, None))
        if low is not None and high is not None and not low <= value <= high:
            yield path, f"{value} is out of range for {form}", "error"
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            yield path, f"expected a number, found {_json_type(value)}", "error"
    elif kind == "boolean" and not isinstance(value, bool):
        yield path, f"expected true or false, found {_json_type(value)}", "error"


def _deprecated_values(schema: Mapping[str, Any]) -> set[str]:
    flags = schema.get("enumDeprecated") or []
    return {value for value, deprecated in zip(schema.get("enum", []), flags, strict=False)
            if deprecated}


def _example(form: str) -> str:
    return {"google-duration": '"300s"', "google-datetime": '"2026-02-10T03:12:00Z"',
            "int64": '"42"', "uint64": '"42"'}.get(form, "see the API reference")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
