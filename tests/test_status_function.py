"""``GET /status`` and ``GET /status.json`` on the deployable canary function, served by the
real functions-framework against the Firestore emulator.

The function evaluates at the clock (there is no ``--now`` on a page view), so
these tests seed yesterday's documents relative to the real time.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import REPO
from tests.functions_server import emulator_env, serve
from tests.http_server import endpoint
from tests.test_status import PHASE2, PHASE3, Page, no_credentials_env, parse

SECRET = "T0SECRET/B0SECRET/xYzZy-recognisable-webhook-secret"
CANARY = REPO / "canary" / "main.py"
PATHS = ("/status", "/status.json")


def seed_yesterday(project: str) -> str:
    """Yesterday (New York): phase 2 LATE (one processor missing 5 h after the first
    completion, past the 4 h deadline), phase 3 STUCK (all complete, never fired)."""
    from google.cloud import firestore

    now = dt.datetime.now(dt.UTC)
    yesterday = (now.astimezone(ZoneInfo("America/New_York")).date()
                 - dt.timedelta(days=1)).isoformat()
    first = now - dt.timedelta(hours=5)
    client = firestore.Client(project=project)
    late: dict[str, Any] = {n: {"status": "success", "completed_at": first} for n in PHASE2[:-1]}
    late["_first_completion_at"] = first
    stuck: dict[str, Any] = {n: {"status": "success", "completed_at": first} for n in PHASE3}
    stuck.update(_first_completion_at=first, _last_completion_at=first)
    client.collection("phase2_completion").document(yesterday).set(late)
    client.collection("phase3_completion").document(yesterday).set(stuck)
    return yesterday


def request(url: str, method: str = "GET", body: bytes | None = None,
            ) -> tuple[int, dict[str, str], str]:
    sent = urllib.request.Request(url, method=method, data=body)
    try:
        with urllib.request.urlopen(sent, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def late_cells(page: Page) -> list[str]:
    return [text for attrs, text in page.cells if "s-LATE" in (attrs.get("class") or "")]


def test_status_pages_show_the_grid_and_never_run_the_canary(project_id, tmp_path):
    from google.cloud import firestore

    from phasegate.canary.store import CANARY as CANARY_COLLECTION
    from phasegate.canary.store import INCIDENTS

    yesterday = seed_yesterday(project_id)
    with endpoint() as slack:
        env = emulator_env(project_id, SLACK_WEBHOOK_URL=f"{slack.url}/services/{SECRET}")
        log = tmp_path / "server.log"
        with serve(CANARY, "canary_http", "http", env, log) as url:
            status, headers, page = request(f"{url}/status")
            json_status, json_headers, body = request(f"{url}/status.json?days=2")
            head_status, _, head_body = request(f"{url}/status", "HEAD")
            again, _, _ = request(f"{url}/status/")
        served = log.read_text()
        assert slack.received == []  # nothing was sent, though the canary would alert
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    parsed = parse(page)
    assert parsed.rows == ["phase2_to_phase3", "phase3_to_phase4"]
    assert any(c.startswith(yesterday) for c in parsed.columns)
    [late] = late_cells(parsed)
    assert PHASE2[-1] in late and "ALERT" in late
    assert json_status == 200 and json_headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert len(data["run_keys"]) == 4 and yesterday in data["run_keys"]
    states = {(t["name"], c["run_key"]): c["state"] for t in data["transitions"]
              for c in t["cells"]}
    assert states[("phase2_to_phase3", yesterday)] == "LATE"
    assert states[("phase3_to_phase4", yesterday)] == "STUCK"
    assert (head_status, head_body) == (200, "") and again == 200
    assert "CANARY_HEARTBEAT" not in served and "Traceback" not in served
    client = firestore.Client(project=project_id)
    assert list(client.collection(INCIDENTS).stream()) == []
    assert list(client.collection(CANARY_COLLECTION).stream()) == []


def test_no_secret_and_no_environment_value_in_either_response(project_id, tmp_path):
    seed_yesterday(project_id)
    with endpoint() as slack:
        hook = f"{slack.url}/services/{SECRET}"
        env = emulator_env(project_id, SLACK_WEBHOOK_URL=hook,
                           PHASEGATE_TEST_VALUE="another-recognisable-env-value")
        with serve(CANARY, "canary_http", "http", env, tmp_path / "server.log") as url:
            answers = [request(f"{url}{path}") for path in PATHS]
            run_status, _, run = request(url, "POST", b"")  # the canary's run, for contrast
        sent = json.dumps(slack.delivered())  # Slack's blocks
        assert "LATE" in sent and "STUCK" in sent  # the run did alert through the hook
    assert run_status == 200
    for status, headers, body in answers:
        assert status == 200
        shown = body + json.dumps(headers)
        for secret in (SECRET, "SECRET", hook, slack.url, "SLACK_WEBHOOK_URL",
                       "another-recognisable-env-value", env["FIRESTORE_EMULATOR_HOST"],
                       "url_env", "notify"):
            assert secret not in shown, secret


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_the_status_paths_answer_405(project_id, tmp_path, method):
    env = emulator_env(project_id)
    with serve(CANARY, "canary_http", "http", env, tmp_path / "server.log") as url:
        answers = [request(f"{url}{path}", method, b"{}") for path in PATHS]
    served = (tmp_path / "server.log").read_text()
    for status, headers, body in answers:
        assert status == 405 and headers["Allow"] == "GET, HEAD", body
        assert "Traceback" not in body
    assert "CANARY_HEARTBEAT" not in served  # a POST to /status never runs the canary


def test_a_bad_days_is_400_and_a_big_one_is_refused(project_id, tmp_path):
    env = emulator_env(project_id)
    with serve(CANARY, "canary_http", "http", env, tmp_path / "server.log") as url:
        answers = [request(f"{url}/status.json?days={days}")[0]
                   for days in ("x", "-1", "32", "1e3", "%C2%B2", "0", "31")]
    assert answers == [400, 400, 400, 400, 400, 200, 200]


def test_without_firestore_the_page_says_so_with_503(tmp_path):
    from tests.emulators import require_gcp

    require_gcp()
    env = no_credentials_env(tmp_path)
    env["GOOGLE_CLOUD_PROJECT"] = "no-such-project"
    with serve(CANARY, "canary_http", "http", env, tmp_path / "server.log") as url:
        status, headers, page = request(f"{url}/status")
        json_status, _, body = request(f"{url}/status.json")
    assert status == 503 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h2>Firestore could not be read</h2>" in page and "credentials" in page
    assert json_status == 503 and "credentials" in json.loads(body)["error"]
    assert "Traceback" not in Path(tmp_path / "server.log").read_text()


# == the routing, without a server ===================================================

def test_status_route_and_the_answers_that_need_no_read():
    from phasegate.canary.evaluate import Settings
    from phasegate.status.http import respond, status_route
    from tests.test_status import EXPECTED

    assert [status_route(p) for p in ("/status", "/status/", "/status.json", "/", "",
                                      "/statusx", "/status/x", "/STATUS")] == [
        "html", "html", "json", None, None, None, None, None]

    class NoClient:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("a refused request read Firestore")

    given = Settings(EXPECTED)
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        body, status, headers = respond(method, "html", {}, given, project=None,
                                        client=NoClient())
        assert status == 405 and headers["Allow"] == "GET, HEAD" and "GET" in body
    body, status, _ = respond("GET", "json", {"days": "32"}, given, project=None,
                              client=NoClient())
    assert status == 400 and "0 to 31" in body
