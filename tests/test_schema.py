"""registry/schema.json stays in sync with the models and accepts the reference registry.

What the schema rejects is checked on the small test registry (tests/registries.py).
"""

from __future__ import annotations

import datetime as dt
import json

import jsonschema

from phasegate.registry.schema_export import SCHEMA_PATH, schema_text
from phasegate.registry.yaml_loader import load_file
from tests.conftest import REFERENCE_REGISTRY
from tests.registries import SMALL_PATH


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def test_checked_in_schema_matches_the_models():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "registry/schema.json is out of date: run `python -m registry.schema_export`")


def test_reference_registry_is_valid_against_the_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    data = _jsonable(load_file(REFERENCE_REGISTRY).data)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)


def test_schema_rejects_what_the_models_reject():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    data = _jsonable(load_file(SMALL_PATH).data)
    assert validator.is_valid(data)
    data["processors"]["p2_box"]["enabeld"] = True
    assert not validator.is_valid(data)
    del data["processors"]["p2_box"]["enabeld"]
    assert validator.is_valid(data)
    del data["transitions"]["phase3_to_phase4"]["trigger_topic"]
    assert not validator.is_valid(data)  # action: trigger needs a topic


def test_registry_names_its_schema_for_editors():
    first = REFERENCE_REGISTRY.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schema.json"
