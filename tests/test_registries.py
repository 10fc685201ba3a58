"""The unit tests' small registry (tests/registries.py) is valid and has the shapes they rely on."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema

from phasegate.registry.schema_export import SCHEMA_PATH
from phasegate.registry.semantics import effective_enablement
from tests.conftest import findings_for
from tests.registries import (
    DISABLED_PROCESSOR,
    DISABLED_SCRAPER,
    OVERNIGHT_REQUIRED,
    PHASE2_EXPECTED,
    PHASE2_REQUIRED,
    PHASE3,
    PIPELINE,
    SAME_DAY,
    SEASON_LEVEL,
    SMALL,
    SMALL_EXPECTATIONS,
    SMALL_TEXT,
    calendar,
    canary_document,
    small_data,
)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def test_the_small_registry_is_clean():
    assert findings_for(SMALL_TEXT) == []


def test_the_small_registry_is_valid_against_the_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        _jsonable(small_data()))


def test_the_small_registry_has_the_shapes_the_unit_tests_need():
    enabled = effective_enablement(SMALL)
    assert SMALL.pipeline == PIPELINE and SMALL.timezone == "America/New_York"
    assert SMALL.scrapers[DISABLED_SCRAPER].enabled is False
    assert SMALL.processors[DISABLED_PROCESSOR].inputs == (DISABLED_SCRAPER,)
    assert not enabled[DISABLED_SCRAPER] and not enabled[DISABLED_PROCESSOR]
    assert SMALL.processors[SEASON_LEVEL].per_run_key is False
    assert all(p.aliases for p in SMALL.processors.values())
    assert set(SMALL.transitions) == {"phase2_to_phase3", "phase3_to_phase4"}
    modes = SMALL.transitions["phase3_to_phase4"].modes
    assert {name: mode.when for name, mode in modes.items()} == {
        "overnight": "before_today", "same_day": "today", "tomorrow": "tomorrow"}
    [quiet] = SMALL.canary.quiet_periods
    assert (quiet.from_, quiet.to, quiet.reason) == (
        dt.date(2026, 2, 13), dt.date(2026, 2, 18), "winter break")
    assert calendar() == {"2026-02-09", "2026-11-01"}


def test_the_names_the_tests_use_are_the_generated_ones():
    phase2 = SMALL_EXPECTATIONS.transitions["phase2_to_phase3"]
    assert list(phase2["expected"]) == PHASE2_EXPECTED
    assert set(phase2["required"]) == PHASE2_REQUIRED
    phase3 = SMALL_EXPECTATIONS.transitions["phase3_to_phase4"]
    assert set(phase3["expected"]) == PHASE3
    assert set(phase3["modes"]["overnight"]["required"]) == OVERNIGHT_REQUIRED
    assert set(phase3["modes"]["same_day"]["expected"]) == SAME_DAY
    document = canary_document()
    assert document["transitions"] == dict(SMALL_EXPECTATIONS.transitions)
    assert document["calendar"] == sorted(calendar())
