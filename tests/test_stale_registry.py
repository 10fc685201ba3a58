"""STALE_REGISTRY follows the transition's own digest, end to end on the emulator."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from phasegate.canary.evaluate import evaluate
from phasegate.generation import canary_settings
from phasegate.registry.loading import load_registry_text
from tests.conftest import REFERENCE_REGISTRY, REPO
from tests.orchestrator_helpers import (
    FakeClock,
    completion,
    firestore_client,
    make_orchestrator,
    push,
)

NOW = dt.datetime(2026, 2, 10, 6, 0, tzinfo=dt.UTC)


def _settings_after(edit: tuple[str, str]):
    text = re.sub(*edit, REFERENCE_REGISTRY.read_text(), count=1)
    assert text != REFERENCE_REGISTRY.read_text(), edit
    loaded = load_registry_text(text, "registry/processors.yaml")
    assert loaded.registry is not None
    return canary_settings(loaded.registry, "registry/processors.yaml", REPO)


@pytest.mark.parametrize("edit, stale", [
    ((r"renotify_hours: \d+", "renotify_hours: 12"), False),          # canary settings only
    ((r"lookback_days: \d+", "lookback_days: 5"), False),
    ((r"trigger_topic: nba-phase4-trigger", "trigger_topic: other-topic"), False),  # another one
    ((r"(NbacGamebookProcessor)\]", r"\1, NbacGamebookPdfProcessor]"), True),  # its aliases
])
def test_only_an_edit_of_the_transition_itself_makes_unfired_run_keys_stale(
        project_id, edit, stale):
    orchestrator, _ = make_orchestrator(project_id, "phase2_to_phase3", FakeClock(NOW))
    orchestrator.handle_push(push(completion("NbacGamebookProcessor"), "m-1"))
    document = firestore_client(project_id).collection("phase2_completion").document(
        "2026-02-09").get().to_dict()
    assert not document.get("_triggered")
    states = [c.state for c in evaluate("phase2_to_phase3", "2026-02-09", document, NOW,
                                        _settings_after(edit))]
    assert ("STALE_REGISTRY" in states) is stale, states
