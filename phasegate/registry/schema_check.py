"""A yes/no check of plain data against registry/schema.json, without pydantic.

The common case is a registry with no problems; answering "valid" must not
cost pydantic's import and model build (about 150 ms, more than everything
else in ``phasegate validate`` together). This checks the subset of JSON
Schema that the exported schema uses, with pydantic's strict semantics
(``True`` is not an integer; a date is a ``datetime.date``, never a string).
When it says "invalid", the pydantic models explain why. A differential
property test holds the two to the same verdict.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from phasegate.registry import constraints

SCHEMA_PATH = Path(__file__).with_name("schema.json")

UNDERSTOOD_KEYWORDS = frozenset({
    "$ref", "$defs", "$schema", "$id", "anyOf", "allOf", "oneOf", "if", "then", "else",
    "type", "enum", "const", "properties", "patternProperties", "additionalProperties",
    "required", "items", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minProperties", "maxProperties", "format",
    # annotations, no effect on validity
    "title", "description", "default", "examples",
})


@functools.cache
def registry_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),),
}


def _type_check(types: list[str], is_date: bool) -> Predicate:
    """One isinstance per value in the common case; bool is never a number."""
    if is_date or len(types) != 1 or types[0] not in _PYTHON_TYPES:
        return lambda v: any(_is_type(v, t, is_date) for t in types)
    python_types = _PYTHON_TYPES[types[0]]
    if types[0] == "number":  # JSON has no infinity or NaN; YAML's .inf and .nan are refused
        return lambda v: (isinstance(v, int | float) and v.__class__ is not bool
                          and math.isfinite(v))
    if types[0] == "integer":
        return lambda v: isinstance(v, python_types) and v.__class__ is not bool
    return lambda v: isinstance(v, python_types)


def _is_type(value: Any, name: str, is_date: bool) -> bool:
    if name == "string":
        if is_date:
            return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        return isinstance(value, str)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value))
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "null":
        return value is None
    return False


Predicate = Callable[[Any], bool]


class _Compiler:
    """Turns the schema into nested closures once; checking is then plain calls."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Predicate] = {}

    def ref(self, ref: str) -> Predicate:
        if ref not in self.refs:
            node: Any = self.root
            for part in ref.removeprefix("#/").split("/"):
                node = node[part]
            self.refs[ref] = lambda value: False  # placeholder while compiling recursion
            compiled = self.compile(node)
            self.refs[ref] = compiled
        target = self.refs
        return lambda value: target[ref](value)

    def compile(self, schema: Mapping[str, Any]) -> Predicate:  # noqa: C901 - one keyword each
        checks: list[Predicate] = []
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            checks.append(_type_check(types, schema.get("format") == "date"))
        if "const" in schema:
            const = schema["const"]
            checks.append(lambda v: _same(v, const))
        if "enum" in schema:
            options = list(schema["enum"])
            checks.append(lambda v: any(_same(v, o) for o in options))
        if "anyOf" in schema:
            any_of = [self.compile(s) for s in schema["anyOf"]]
            checks.append(lambda v: any(c(v) for c in any_of))
        if "allOf" in schema:
            checks.extend(self.compile(s) for s in schema["allOf"])
        if "oneOf" in schema:
            one_of = [self.compile(s) for s in schema["oneOf"]]
            checks.append(lambda v: sum(c(v) for c in one_of) == 1)
        if "if" in schema:
            condition = self.compile(schema["if"])
            then = self.compile(schema.get("then", {}))
            other = self.compile(schema.get("else", {}))
            checks.append(lambda v: then(v) if condition(v) else other(v))
        string = self._string(schema)
        if string is not None:
            checks.append(lambda v: not isinstance(v, str) or string(v))
        number = self._number(schema)
        if number is not None:
            checks.append(lambda v: isinstance(v, bool) or not isinstance(v, int | float)
                          or number(v))
        if "items" in schema:
            item = self.compile(schema["items"])
            checks.append(lambda v: not isinstance(v, list) or all(item(i) for i in v))
        obj = self._object(schema)
        if obj is not None:
            checks.append(lambda v: not isinstance(v, dict) or obj(v))
        if len(checks) == 1:
            return checks[0]

        def every(value: Any) -> bool:  # a loop: measurably faster than all() on a generator
            for check in checks:  # noqa: SIM110
                if not check(value):
                    return False
            return True

        return every

    @staticmethod
    def _string(schema: Mapping[str, Any]) -> Predicate | None:
        if not {"pattern", "minLength", "maxLength"} & schema.keys():
            return None
        pattern = _ecma(schema["pattern"]) if "pattern" in schema else None
        low, high = schema.get("minLength", 0), schema.get("maxLength", float("inf"))
        return lambda v: ((pattern is None or pattern.search(v) is not None)
                          and low <= len(v) <= high)

    @staticmethod
    def _number(schema: Mapping[str, Any]) -> Predicate | None:
        bounds: tuple[tuple[str, Callable[[float, float], bool]], ...] = (
            ("minimum", lambda v, b: v >= b), ("maximum", lambda v, b: v <= b),
            ("exclusiveMinimum", lambda v, b: v > b), ("exclusiveMaximum", lambda v, b: v < b),
        )
        present = [(schema[key], test) for key, test in bounds if key in schema]
        if not present:
            return None
        return lambda v: all(test(v, bound) for bound, test in present)

    def _object(self, schema: Mapping[str, Any]) -> Predicate | None:
        keywords = {"properties", "patternProperties", "additionalProperties", "required",
                    "minProperties", "maxProperties"}
        if not keywords & schema.keys():
            return None
        required = tuple(schema.get("required", ()))
        low, high = schema.get("minProperties", 0), schema.get("maxProperties", float("inf"))
        properties = {k: self.compile(s) for k, s in schema.get("properties", {}).items()}
        patterns = [(_ecma(p), self.compile(s))
                    for p, s in schema.get("patternProperties", {}).items()]
        extra_schema = schema.get("additionalProperties", True)
        extra: Predicate | bool = (self.compile(extra_schema) if isinstance(extra_schema, dict)
                               else bool(extra_schema))

        def check(value: dict[Any, Any]) -> bool:
            if not low <= len(value) <= high:
                return False
            for key in required:
                if key not in value:
                    return False
            for key, item in value.items():
                own = properties.get(key)
                matched = own is not None
                if own is not None and not own(item):
                    return False
                if patterns and isinstance(key, str):
                    for pattern, sub in patterns:
                        if pattern.search(key):
                            matched = True
                            if not sub(item):
                                return False
                if not matched and (extra is False or (extra is not True and not extra(item))):
                    return False
            return True

        return check


@functools.cache
def _compiled() -> Predicate:
    return _Compiler(registry_schema()).compile(registry_schema())


def _same(value: Any, expected: Any) -> bool:
    return type(value) is type(expected) and value == expected


def conforms(data: Any) -> bool:
    """True when ``data`` is a valid registry: the schema and the shared constraints."""
    if not _compiled()(data):
        return False
    return _constraints_hold(data)


def _constraints_hold(data: Mapping[str, Any]) -> bool:
    if constraints.timezone_error(data["timezone"]):
        return False
    for transition in (data.get("transitions") or {}).values():
        modes = transition.get("modes") or {}
        if constraints.modes_when_error({n: m["when"] for n, m in modes.items()}):
            return False
        if constraints.trigger_topic_error(transition.get("action", "monitor"),
                                           transition.get("trigger_topic"),
                                           transition.get("target")):
            return False
        if not _policy_holds(transition.get("policy") or ()):
            return False
        if not _target_holds(transition.get("target")):
            return False
    canary = data.get("canary") or {}
    if constraints.cron_error(canary.get("schedule", "*/15 * * * *")):
        return False
    for period in canary.get("quiet_periods") or ():
        if constraints.quiet_period_error(period["from"], period["to"]):
            return False
    for entry in canary.get("notify") or ():
        chosen = [name for name in constraints.NOTIFY_CHANNELS if entry.get(name) is not None]
        if constraints.notify_error(chosen):
            return False
        for name in chosen:
            settings = entry[name]
            if "url_env" in settings and constraints.env_name_error(settings["url_env"]):
                return False
    return True


def _policy_holds(tiers: Any) -> bool:
    return not any(constraints.duration_error(tier["after"]) or constraints.min_error(tier["min"])
                   for tier in tiers)


def _target_holds(target: Mapping[str, Any] | None) -> bool:
    if target is None:
        return True
    chosen = [kind for kind in constraints.TARGET_KINDS if target.get(kind) is not None]
    if constraints.target_error(chosen):
        return False
    http = target.get("http") or {}
    return not any(constraints.env_name_error(http[key])
                   for key in ("url_env", "audience_env") if http.get(key) is not None)


def _ecma(pattern: str) -> re.Pattern[str]:
    """A JSON Schema (ECMA-262) pattern for Python: ``$`` ends the text, as in ECMA.

    Python's ``$`` also matches before a final newline, which let ``"t23\\n"``
    pass as a name and reach gcloud.
    """
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))
