"""The unit tests' own small registry, and what phasegate generates from it, built in-process.

Unit tests read tests/data/small-registry.yaml instead of the reference pipeline
(registry/processors.yaml), so the reference can change without breaking them.
It holds every shape they need:

- scrapers feed_box, feed_sheet, feed_lines, feed_props, feed_schedule, and
  feed_retired (disabled, with a reason and a date);
- phase 2: p2_box, p2_sheet, p2_lines, p2_props; p2_schedule (season-level,
  ``per_run_key: false``); p2_retired (disabled, and its scraper too); each with
  aliases (CamelCase, ending in ``Processor``), p2_lines and p2_retired two each;
- phase 3: game_summary, team_summary, game_context;
- phase2_to_phase3 (monitor, requires p2_box and p2_sheet) and phase3_to_phase4
  (trigger, modes overnight/before_today requiring game_summary and game_context,
  same_day/today and tomorrow/tomorrow expecting game_context only);
- timezone America/New_York (DST), a quiet period 2026-02-13..18 ("winter
  break"), a calendar (tests/data/small-calendar.txt: 2026-02-09, 2026-11-01),
  two notify channels, references, deploy settings and generate targets.

Expectations are generated here with :func:`phasegate.registry.generate.expectations`
and :func:`~phasegate.registry.generate.render_json`, and read back through
:class:`phasegate.runtime.Expectations`, exactly as the deployed functions read theirs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from phasegate.registry.calendar import read_calendar
from phasegate.registry.generate import Inputs, expectations, render_json, render_python
from phasegate.registry.loading import load_registry_text
from phasegate.registry.models import Registry
from phasegate.registry.yaml_loader import load_file
from phasegate.runtime import Expectations

DATA = Path(__file__).resolve().parent / "data"
SMALL_PATH = DATA / "small-registry.yaml"
SMALL_SOURCE = "registry/processors.yaml"  # the name findings and generated headers show
SMALL_TEXT = SMALL_PATH.read_text(encoding="utf-8")

# Names the tests refer to (each checked against the file by tests/test_registries.py).
PIPELINE = "small-stats"
PHASE2_EXPECTED = ["p2_box", "p2_lines", "p2_props", "p2_sheet"]  # sorted, as generated
PHASE2_REQUIRED = {"p2_box", "p2_sheet"}
PHASE3 = {"game_summary", "team_summary", "game_context"}
OVERNIGHT_REQUIRED = {"game_summary", "game_context"}
SAME_DAY = {"game_context"}
SEASON_LEVEL = "p2_schedule"
DISABLED_SCRAPER, DISABLED_PROCESSOR = "feed_retired", "p2_retired"


def small_data() -> dict[str, Any]:
    """The small registry as plain YAML data (dates as dates), a fresh copy each call."""
    data = load_file(SMALL_PATH).data
    assert isinstance(data, dict)
    return data


def load_small(text: str = SMALL_TEXT) -> Registry:
    """The small registry (or an edited copy of its text), loaded and valid."""
    loaded = load_registry_text(text, SMALL_SOURCE)
    assert loaded.registry is not None, loaded.problems
    return loaded.registry


def edited(*edits: tuple[str, str]) -> str:
    """The small registry's text after ``re.sub`` edits, each of which must change it."""
    text = SMALL_TEXT
    for pattern, replacement in edits:
        changed = re.sub(pattern, replacement, text, count=1)
        assert changed != text, f"{pattern!r} did not match the small registry"
        text = changed
    return text


SMALL = load_small()


def calendar(registry: Registry = SMALL) -> frozenset[str]:
    """The run keys of the registry's ``canary.calendar``, read under tests/data."""
    assert registry.canary.calendar is not None
    return read_calendar(DATA, registry.canary.calendar)


def canary_document(registry: Registry = SMALL) -> dict[str, Any]:
    """The canary's expected.json for ``registry``, as ``phasegate generate`` renders it."""
    document: dict[str, Any] = json.loads(
        render_json(registry, SMALL_SOURCE, Inputs(calendar=calendar(registry))))
    return document


def orchestrator_module(registry: Registry = SMALL) -> str:
    """The orchestrator's expected_processors.py for ``registry``."""
    return render_python(registry, SMALL_SOURCE)


def runtime(registry: Registry = SMALL) -> Expectations:
    """The orchestrator's view of ``registry``: its generated expectations, checked."""
    return Expectations.from_data(expectations(registry), SMALL_SOURCE)


SMALL_EXPECTATIONS = runtime()
