"""What an adopter meets first: the documented install, the first commands, the first deploy."""

from __future__ import annotations

import io
import sys
import tomllib

import pytest

from phasegate.deploy import commands
from phasegate.registry.loading import load_registry
from tests.conftest import REPO

SOURCE = "registry/processors.yaml"


# --- deploy plan --check after `pip install 'phasegate[gcp]'` ----------------------------------


def test_the_gcp_extra_brings_the_discovery_documents() -> None:
    """README's main job installs only [gcp], then runs `deploy plan --check`."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    gcp = project["optional-dependencies"]["gcp"]
    assert any(requirement.startswith("google-api-python-client") for requirement in gcp), gcp


def test_missing_discovery_documents_fail_before_gcloud_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    registry = load_registry(REPO / SOURCE, SOURCE).registry
    assert registry is not None
    monkeypatch.setitem(sys.modules, "googleapiclient", None)  # as if not installed
    calls: list[object] = []
    monkeypatch.setattr(commands, "check_plan", lambda steps, *a, **k: calls.append(steps))
    out, err = io.StringIO(), io.StringIO()
    code = commands.plan_command(registry, SOURCE, REPO, project=None, region=None, check=True,
                                 out=out, err=err)
    assert code == 2
    assert calls == []  # gcloud was never run
    assert "the discovery documents come with google-api-python-client; install it" in (
        err.getvalue())
    assert out.getvalue() == ""


# --- a delivery that fails for a passing reason is answered 503, quietly ----------------------


@pytest.mark.parametrize(("error", "checkpoint"), [
    ("StoreUnavailable", "STORE_UNAVAILABLE"),
    ("TriggerInProgress", "TRIGGER_IN_PROGRESS"),
    ("TriggerPublishFailed", "TRIGGER_FAILED"),
])
def test_retryable_failures_are_answered_503_by_both_entry_points(
        error: str, checkpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import flask
    from werkzeug.exceptions import HTTPException

    from phasegate.orchestrator import core, function, store

    kind = getattr(core, error, None) or getattr(store, error)

    class Failing:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def handle_push(self, data: object) -> None:
            raise kind("passing trouble")

    monkeypatch.setattr(function, "Orchestrator", Failing)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")  # a client, never used
    on_completion, on_push = function.function_handlers(
        REPO / "orchestrator" / "expected_processors.py",
        environ={"PHASEGATE_TRANSITION": "phase2_to_phase3", "GOOGLE_CLOUD_PROJECT": "p"})
    with flask.Flask(__name__).test_request_context("/", method="POST", data=b"{}"):
        body, status, headers = on_push(flask.request)  # type: ignore[misc]
    assert status == 503 and json.loads(body)["checkpoint"] == checkpoint
    assert headers == {"Content-Type": "application/json"}

    class Event:
        data = b"{}"

    with pytest.raises(HTTPException) as raised:
        on_completion(Event())
    response = raised.value.get_response()
    assert response.status_code == 503
    assert json.loads(response.get_data())["checkpoint"] == checkpoint


def test_other_failures_still_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    import flask

    from phasegate.orchestrator import function

    class Broken:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def handle_push(self, data: object) -> None:
            raise ZeroDivisionError("a bug: the traceback is wanted")

    monkeypatch.setattr(function, "Orchestrator", Broken)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")
    _, on_push = function.function_handlers(
        REPO / "orchestrator" / "expected_processors.py",
        environ={"PHASEGATE_TRANSITION": "phase2_to_phase3", "GOOGLE_CLOUD_PROJECT": "p"})
    with flask.Flask(__name__).test_request_context("/", method="POST", data=b"{}"), \
            pytest.raises(ZeroDivisionError):
        on_push(flask.request)
