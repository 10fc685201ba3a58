"""The pydantic-free fast path agrees with the pydantic models, field for field and verdict
for verdict.

Mutations start from the small test registry (tests/registries.py), which holds every
section of the format: scrapers, processors, transitions with modes, canary settings with a
quiet period, a calendar and notify channels, references with files, deploy and generate.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from phasegate.registry import models, schema_models
from phasegate.registry.schema_check import UNDERSTOOD_KEYWORDS, conforms, registry_schema
from phasegate.registry.yaml_loader import load_file
from tests.registries import SMALL_PATH

SMALL_DATA = load_file(SMALL_PATH).data

PAIRS = [
    (schema_models.Scraper, models.Scraper),
    (schema_models.Processor, models.Processor),
    (schema_models.Mode, models.Mode),
    (schema_models.Transition, models.Transition),
    (schema_models.QuietPeriod, models.QuietPeriod),
    (schema_models.Canary, models.Canary),
    (schema_models.Early, models.Early),
    (schema_models.FileReference, models.FileReference),
    (schema_models.CodeReference, models.CodeReference),
    (schema_models.CallReference, models.CallReference),
    (schema_models.References, models.References),
    (schema_models.GenerateTarget, models.GenerateTarget),
    (schema_models.Deploy, models.Deploy),
    (schema_models.Registry, models.Registry),
]


def _pydantic_accepts(data) -> bool:
    try:
        schema_models.Registry.model_validate(data)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("schema_model,runtime", PAIRS, ids=lambda p: getattr(p, "__name__", ""))
def test_runtime_objects_have_the_models_fields_and_defaults(schema_model, runtime):
    runtime_fields = {f.name: f for f in dataclasses.fields(runtime)}
    assert set(runtime_fields) == set(schema_model.model_fields)
    for name, info in schema_model.model_fields.items():
        if info.is_required():
            assert runtime_fields[name].default is dataclasses.MISSING, name
            continue
        expected = info.get_default(call_default_factory=True)
        field = runtime_fields[name]
        actual = (field.default_factory() if field.default_factory is not dataclasses.MISSING
                  else field.default)
        if isinstance(expected, list):
            expected = tuple(expected)
        if isinstance(expected, schema_models.Canary | schema_models.References
                      | schema_models.Deploy | schema_models.Early):
            continue  # nested defaults are compared by their own pair
        assert actual == expected, name


def test_schema_uses_only_keywords_the_fast_path_understands():
    used: set[str] = set()

    def walk(node, in_properties=False):
        if isinstance(node, dict):
            for key, value in node.items():
                if not in_properties:
                    used.add(key)
                walk(value, key in ("properties", "patternProperties", "$defs"))
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(registry_schema())
    assert used <= UNDERSTOOD_KEYWORDS, used - UNDERSTOOD_KEYWORDS


def test_a_full_registry_takes_the_fast_path():
    assert conforms(SMALL_DATA) and _pydantic_accepts(SMALL_DATA)


ODD_VALUES = st.sampled_from([
    True, False, 0, 1, -1, 2, 1.5, 240.0, "", "x", "all", "yes", "p2-bad", "NOT_A_URL",
    "https://hooks.example/x", "trigger", "monitor", "today", "before_today", "Mars/Olympus",
    None, [], {}, ["p2_box"], [1], {"x": 1}, {"url_env": "X"},
    dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 5), "2026-01-01",
])


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


ALL_PATHS = [p for p in _paths(SMALL_DATA) if p]


@st.composite
def mutated_data(draw):
    data = copy.deepcopy(SMALL_DATA)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["set", "delete", "add"]))
            if action == "set":
                parent[path[-1]] = draw(ODD_VALUES)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "enabeld", "p2_new", "when", "1"]))] = (
                    draw(ODD_VALUES))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_data())
def test_fast_path_and_pydantic_agree(data):
    assert conforms(data) == _pydantic_accepts(data)


@pytest.mark.parametrize("where", [
    'processors:\n  "p2_a\\n": {phase: 2}\n',
    'processors:\n  p2_a: {phase: 2, aliases: ["PA\\n"]}\n',
    'processors:\n  p2_a: {phase: 2}\ntransitions:\n  "t23\\n": {from_phase: 2, to_phase: 3, '
    'collection: c}\n',
    'processors:\n  p2_a: {phase: 2}\ntransitions:\n  t23: {from_phase: 2, to_phase: 3, '
    'collection: "c23\\n"}\n',
])
def test_a_name_ending_in_a_newline_is_a_schema_error(where):
    """JSON Schema's ``$`` ends the text; Python's also matches before a final newline."""
    from tests.conftest import findings_for

    text = "version: 1\npipeline: x\ntimezone: UTC\n" + where
    assert "PG003" in {f.rule for f in findings_for(text)}
