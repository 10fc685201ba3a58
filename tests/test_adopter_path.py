"""What an adopter meets first: the documented install, the first commands, the first deploy."""

from __future__ import annotations

import io
import sys
import tomllib
from pathlib import Path

import pytest

from phasegate.deploy import commands
from phasegate.registry.loading import load_registry
from tests.conftest import REPO

SOURCE = "registry/processors.yaml"


# --- deploy plan --check needs the deploy extra ----------------------------------------------


def test_the_deploy_extra_brings_the_discovery_documents_and_the_main_job_installs_it(
        ) -> None:
    """`deploy plan --check` needs google-api-python-client; a deployed function does not
    (its requirements pin phasegate[gcp]), so it is the deploy extra's, and the main job's."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    for extra in ("deploy", "dev"):
        assert any(r.startswith("google-api-python-client") for r in extras[extra]), extra
    assert not any(r.startswith("google-api-python-client") for r in extras["gcp"])
    readme = (REPO / "README.md").read_text()
    assert "pip install -e '.[gcp,deploy]' && phasegate validate --strict" in readme


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


# --- an HTTP target the deployment cannot reach is found at cold start -----------------------

HTTP_TARGET = {"kind": "http", "url_env": "COORDINATOR_URL", "audience_env": "COORDINATOR_AUD",
               "message": None, "each": None, "timeout_seconds": 5}
GOOD_ENV = {"COORDINATOR_URL": "https://coordinator.example/hooks/SECRETPATH42?k=SECRETQ42",
            "COORDINATOR_AUD": "https://coordinator.example"}


def _with_http_target(tmp_path: Path) -> Path:
    """The reference expected.json, phase3_to_phase4 firing by POST instead of Pub/Sub."""
    import json

    from phasegate.runtime import content_digest

    data = json.loads((REPO / "canary" / "expected.json").read_text())
    data["transitions"]["phase3_to_phase4"]["target"] = dict(HTTP_TARGET)
    data["content_digest"] = content_digest(data)  # as `phasegate generate` would write it
    path = tmp_path / "expected.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("environ", "named", "why"), [
    ({}, "COORDINATOR_URL", "is not set"),
    ({"COORDINATOR_URL": "  "}, "COORDINATOR_URL", "is not set"),
    ({**GOOD_ENV, "COORDINATOR_URL": "http://coordinator.example/hooks/SECRETPATH42"},
     "the URL in COORDINATOR_URL", "plain http"),
    ({**GOOD_ENV, "COORDINATOR_URL": "coordinator.example/SECRETPATH42"},
     "the URL in COORDINATOR_URL", "no scheme"),
    ({"COORDINATOR_URL": GOOD_ENV["COORDINATOR_URL"]}, "COORDINATOR_AUD", "is not set"),
])
def test_an_unusable_http_target_fails_the_orchestrator_at_cold_start(
        environ: dict[str, str], named: str, why: str, tmp_path: Path) -> None:
    from phasegate.orchestrator.function import ColdStartFailed, function_handlers
    from phasegate.orchestrator.logs import CheckpointLog

    stream = io.StringIO()
    with pytest.raises(ColdStartFailed) as raised:
        function_handlers(_with_http_target(tmp_path), log=CheckpointLog(stream),
                          environ={"PHASEGATE_TRANSITION": "phase3_to_phase4", **environ})
    assert named in str(raised.value) and why in str(raised.value)
    assert "COLD_START_FAILED" in stream.getvalue() and named in stream.getvalue()
    assert "SECRET" not in stream.getvalue() + str(raised.value)  # never the URL


def test_a_usable_http_target_and_other_transitions_start(tmp_path: Path) -> None:
    from phasegate.orchestrator.function import function_handlers

    path = _with_http_target(tmp_path)
    function_handlers(path, environ={"PHASEGATE_TRANSITION": "phase3_to_phase4", **GOOD_ENV})
    # phase2_to_phase3 fires to Pub/Sub: the HTTP target's variables are not its business
    function_handlers(path, environ={"PHASEGATE_TRANSITION": "phase2_to_phase3"})
    # a loopback URL is a local test: no ID token is fetched, so no audience is needed
    function_handlers(path, environ={"PHASEGATE_TRANSITION": "phase3_to_phase4",
                                     "COORDINATOR_URL": "http://127.0.0.1:8099/fire"})


def test_the_canary_reports_an_unusable_http_target_in_every_run_and_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from phasegate.canary import function as canary_function
    from phasegate.canary import run, store

    calls: list[list[str]] = []

    def fake_run_once(store: object, settings: object, now: object, **kwargs: object) -> object:
        calls.append(list(kwargs.get("problems", ())))  # type: ignore[call-overload]
        return run.RunResult(now, errors=calls[-1])  # type: ignore[arg-type]

    monkeypatch.setattr(run, "run_once", fake_run_once)
    monkeypatch.setattr(store, "firestore_client", lambda project: object())
    canary_http = canary_function.function_handler(  # a cold start that does not fail
        _with_http_target(tmp_path), environ={"COORDINATOR_URL": "ftp://x.example/SECRET9"})
    body, status, _ = canary_http(None)
    [problems] = calls
    [problem] = problems
    assert "phase3_to_phase4" in problem and "the URL in COORDINATOR_URL" in problem
    assert "SECRET" not in problem
    assert status == 500 and problem in body  # Cloud Scheduler records it, as any CANARY_ERROR
    assert canary_function.target_problems(
        canary_function.load_settings(_with_http_target(tmp_path), {}), GOOD_ENV) == []


# --- phasegate --version -------------------------------------------------------------------


def test_version_prints_the_package_version_and_exits_0() -> None:
    from phasegate import __version__
    from tests.conftest import run_phasegate

    result = run_phasegate("--version")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, f"phasegate {__version__}\n", "")


# --- README's command summary names every command -------------------------------------------


def _summary_block() -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index("```\nphasegate init [DIR]")
    return readme[start:readme.index("```", start + 3)]


def test_the_readme_command_summary_names_every_command_and_option() -> None:
    import argparse

    from phasegate.cli import _parser

    block = _summary_block()
    parser = _parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name in commands.choices:
        assert f"\nphasegate {name} " in block or f"\nphasegate {name}\n" in block, name
    assert "[--from-code PATH...]" in block
    assert "\nphasegate fire TRANSITION RUN_KEY --reason TEXT" in block
    assert "\nphasegate --version\n" in block
