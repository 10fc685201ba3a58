"""Regression tests for the adversarial review of the canary (one block per finding).

1. notification URLs are secrets and hostile endpoints cannot hold a run;
2. text from documents never forms a Slack mention or link;
3. one malformed document is UNREADABLE, never a crashed run;
4. ``canary run --now`` is a dry run unless ``--record``;
5. no credentials: exit 3, one line, reported through the channels that work;
6. non-finite or absurd settings and invalid schedules are CANARY_ERRORs.

Everything here talks to loopback only: local servers, the local emulators.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from phasegate.canary.channels import (
    Budget,
    DeliveryFailed,
    parse_url,
    post_json,
    redact,
    slack_messages,
)
from phasegate.canary.evaluate import Settings, evaluate
from phasegate.canary.incidents import Notification
from phasegate.canary.run import EXIT_ALERTING, EXIT_FAILED, RunResult, run_once
from phasegate.canary.store import CanaryStore
from tests.conftest import REPO, run_phasegate

EXPECTED = json.loads((REPO / "canary" / "expected.json").read_text())
PHASE2 = EXPECTED["transitions"]["phase2_to_phase3"]["expected"]
T0 = dt.datetime(2026, 2, 10, 7, 0, tzinfo=dt.UTC)  # 02:00 in New York
FIRST = dt.datetime(2026, 2, 10, 2, 0, tzinfo=dt.UTC)
NOW_ARG = "2026-02-10T07:00:00+00:00"
SECRET = "T000/B000/XyZsEcReT123"
PHISH = "<!channel> <https://evil.example/login|Click here>"


# -- loopback only ------------------------------------------------------------------

LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch):
    """Any in-process name resolution of a host that is not loopback is refused and recorded,
    so that even a regression cannot reach the network from these tests."""
    blocked: list[str] = []
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        text = host.decode() if isinstance(host, bytes) else str(host)
        if not text.startswith(LOOPBACK):
            blocked.append(text)
            raise socket.gaierror(socket.EAI_NONAME, f"{text}: not loopback (test guard)")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return blocked


# -- local servers (loopback only) ------------------------------------------------

class Recorder:
    """Every request (method, path, body); scripted answers (status, headers), then 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.url = ""
        self.origin = ""

    def posts(self) -> list[Any]:
        return [body for method, _, body in self.requests if method == "POST"]


@contextmanager
def recorder() -> Iterator[Recorder]:
    state = Recorder()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with lock:
                state.requests.append((self.command, self.path,
                                       json.loads(raw) if raw else None))
                status, headers = state.script.pop(0) if state.script else (200, {})
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = do_PUT = do_HEAD = _answer  # noqa: N815 - the http.server API

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    state.url = f"{state.origin}/services/{SECRET}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def drip_server(interval: float = 0.05) -> Iterator[str]:
    """Accepts, reads the request, then answers one byte every ``interval`` seconds, forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        answer = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 100000
        try:
            conn.settimeout(0.5)
            with suppress(OSError):
                conn.recv(65536)
            for byte in answer:
                if stop.is_set():
                    break
                conn.sendall(bytes([byte]))
                time.sleep(interval)
        except OSError:
            pass
        finally:
            conn.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/services/{SECRET}"
    finally:
        stop.set()
        listener.close()


# -- helpers -------------------------------------------------------------------------

def make_settings(notify: list[dict[str, Any]], **canary: Any) -> Settings:
    data = copy.deepcopy(EXPECTED)
    data["canary"].update(notify=notify, **canary)
    return Settings(data)


def client(project: str) -> Any:
    from tests.orchestrator_helpers import firestore_client

    return firestore_client(project)


def seed(project: str, run_key: str, body: dict[str, Any],
         collection: str = "phase2_completion") -> None:
    client(project).collection(collection).document(run_key).set(body)


def late_body(names: list[str] = PHASE2[:-1]) -> dict[str, Any]:
    body: dict[str, Any] = {n: {"status": "success", "completed_at": FIRST} for n in names}
    body["_first_completion_at"] = FIRST
    return body


def run(project: str, settings: Settings, now: dt.datetime = T0, **kwargs: Any,
        ) -> tuple[RunResult, CanaryStore, str]:
    store = CanaryStore(client(project), pipeline="nba-stats")
    stream = io.StringIO()
    result = run_once(store, settings, now, stream=stream, sleep=lambda s: None, **kwargs)
    return result, store, stream.getvalue()


def everything_shown(result: RunResult, logged: str) -> str:
    return json.dumps(result.as_json(), default=str) + result.as_text() + logged


def sent(server: Recorder) -> list[tuple[str, str]]:
    return [(n["kind"], n["state"]) for body in server.posts() for n in body["notifications"]]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment with no way to find Google credentials or an emulator."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "GOOGLE_APPLICATION_CREDENTIALS", "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST",
        "PHASEGATE_REGISTRY", "GCE_METADATA_HOST", "GCE_METADATA_IP", "CLOUDSDK_CONFIG",
        "GOOGLE_CLOUD_PROJECT", "SLACK_WEBHOOK_URL")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(NO_GCE_CHECK="True", HOME=str(home), CLOUDSDK_CONFIG=str(home / "gcloud"),
               **extra)
    return env


def phasegate(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phasegate", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


# == 1. notification URLs ============================================================

@pytest.mark.parametrize("url", [
    f"hooks.slack.com/services/{SECRET}",  # no scheme
    f"//hooks.slack.com/services/{SECRET}",
    f"file:///etc/{SECRET}",
    f"data:application/json,{SECRET}",
    f"ftp://hooks.slack.com/{SECRET}",
    f"http://hooks.slack.com/services/{SECRET}",  # plain http, not loopback
    f"http://10.0.0.1/services/{SECRET}",
    f"http://127.0.0.1.evil.example/{SECRET}",
    f"http://[::ffff:8.8.8.8]/{SECRET}",
    f"https://user:{SECRET}@hooks.slack.com/x",
    f"https://hooks.slack.com/services/{SECRET}\n/more",
    f"https://[::1/services/{SECRET}",
    f"https://hooks.slack.com:99999/services/{SECRET}",
    f"{SECRET}:https://hooks.slack.com/",
    "https:///" + SECRET,
])
def test_a_bad_url_is_a_failed_channel_whose_message_never_holds_the_secret(url):
    with pytest.raises(DeliveryFailed) as caught:
        parse_url(url, "the URL in SLACK_WEBHOOK_URL")
    assert "B000" not in str(caught.value) and "XyZ" not in str(caught.value)
    assert "B000" not in redact(url)


@pytest.mark.parametrize("url,shown", [
    (f"https://hooks.slack.com/services/{SECRET}?token=abc#frag", "https://hooks.slack.com"),
    (f"http://127.0.0.9:8080/{SECRET}", "http://127.0.0.9"),
    (f"http://localhost/{SECRET}", "http://localhost"),
    (f"http://[::1]:9/{SECRET}", "http://[::1]"),
    (f"  https://hooks.slack.com/services/{SECRET}\n", "https://hooks.slack.com"),
])
def test_allowed_urls_are_shown_as_scheme_and_host_only(url, shown):
    assert parse_url(url).shown == shown
    assert redact(url) == shown


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_is_a_failed_delivery(status):
    with recorder() as hook, recorder() as elsewhere:
        hook.script.append((status, {"Location": elsewhere.url}))
        with pytest.raises(DeliveryFailed) as caught:
            post_json(hook.url, {"x": 1}, sleep=lambda s: None)
        assert f"HTTP {status}" in str(caught.value) and "redirect" in str(caught.value)
        assert SECRET not in str(caught.value)
        assert len(hook.requests) == 1  # not retried either
        assert elsewhere.requests == []


def test_a_slow_drip_endpoint_cannot_hold_a_run():
    """One byte at a time: every read returns quickly, so only a bound on the whole answer
    (and on the whole run) ends it."""
    budget = Budget(seconds=2.0, connect_timeout=1.0, read_timeout=1.0, attempt_timeout=1.0)
    with drip_server() as slow:
        started = time.monotonic()
        done: list[BaseException | None] = []

        def deliver() -> None:
            try:
                post_json(slow, {"x": 1}, budget=budget, sleep=time.sleep)
            except BaseException as error:  # noqa: BLE001
                done.append(error)
            else:
                done.append(None)

        worker = threading.Thread(target=deliver, daemon=True)
        worker.start()
        worker.join(timeout=15)
        elapsed = time.monotonic() - started
    assert done, "the delivery was still running after 15 s"
    assert isinstance(done[0], DeliveryFailed) and "too slow" in str(done[0])
    assert SECRET not in str(done[0])
    assert elapsed < 3.0


def test_a_run_deadline_bounds_every_channel_together():
    budget = Budget(seconds=1.5, connect_timeout=1.0, read_timeout=1.0, attempt_timeout=1.0)
    with drip_server() as slow:
        started = time.monotonic()
        for _ in range(4):  # four slow channels, one deadline
            with pytest.raises(DeliveryFailed):
                post_json(slow, {"x": 1}, budget=budget, sleep=time.sleep)
        assert time.monotonic() - started < 2.5


def test_retry_after_cannot_outwait_the_run_deadline():
    budget = Budget(seconds=5.0)
    waits: list[float] = []
    with recorder() as hook:
        hook.script.append((429, {"Retry-After": "60"}))
        with pytest.raises(DeliveryFailed) as caught:
            post_json(hook.url, {"x": 1}, budget=budget, sleep=waits.append)
    assert waits == [] and "no time left" in str(caught.value)


@pytest.mark.usefixtures("emulators")
@pytest.mark.parametrize("bad", [f"hooks.slack.com/services/{SECRET}", f"file:///tmp/{SECRET}",
                                 f"data:,{SECRET}", f"http://example.com/{SECRET}"])
def test_a_bad_url_fails_its_channel_and_the_run_goes_on(project_id, monkeypatch, bad,
                                                        only_loopback):
    with recorder() as hook:
        monkeypatch.setenv("TEST_SLACK", bad)
        monkeypatch.setenv("TEST_HOOK", hook.url)
        settings = make_settings([{"slack": {"url_env": "TEST_SLACK"}},
                                  {"webhook": {"url_env": "TEST_HOOK"}}, {"log": {}}])
        seed(project_id, "2026-02-09", late_body())
        result, store, logged = run(project_id, settings)
        assert result.exit_code == EXIT_FAILED
        assert any("slack:TEST_SLACK delivery failed" in e for e in result.errors)
        assert sent(hook) == [("open", "LATE"), ("open", "CANARY_ERROR")]
        shown = everything_shown(result, logged) + json.dumps(hook.posts())
        assert "B000" not in shown and "XyZ" not in shown
        beat = store.read_heartbeat()
        assert beat is not None and beat["outcome"] == "error"
        assert only_loopback == []  # refused before any connection was tried


@pytest.mark.usefixtures("emulators")
def test_command_line_bad_slack_url_exits_3_and_still_writes_the_heartbeat(project_id,
                                                                           emulators):
    env = {"GOOGLE_CLOUD_PROJECT": project_id, "NO_GCE_CHECK": "True",
           "FIRESTORE_EMULATOR_HOST": emulators["firestore"],
           "SLACK_WEBHOOK_URL": f"hooks.slack.com/services/{SECRET}"}
    seed(project_id, "2026-02-09", late_body())
    result = run_phasegate("canary", "run", "--once", "--now", NOW_ARG, "--record", env=env)
    assert result.returncode == 3, result.stderr
    assert "B000" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    beat = run_phasegate("canary", "heartbeat", "--now", NOW_ARG, env=env)
    assert beat.returncode == 0, beat.stderr


@pytest.mark.usefixtures("emulators")
def test_a_failed_channel_is_retried_alone_and_the_others_get_nothing_twice(project_id,
                                                                           monkeypatch):
    with recorder() as slack:
        slack.script += [(503, {})] * 3
        monkeypatch.setenv("TEST_SLACK", slack.url)
        settings = make_settings([{"slack": {"url_env": "TEST_SLACK"}}, {"log": {}}])
        seed(project_id, "2026-02-09", late_body())
        first, _, _ = run(project_id, settings)
        assert first.exit_code == EXIT_FAILED
        second, _, logged = run(project_id, settings, T0 + dt.timedelta(minutes=15))
        assert [(d.channel, d.delivered) for d in second.deliveries] == [
            ("slack:TEST_SLACK", True)]
        assert "OPEN" not in logged
        third, _, _ = run(project_id, settings, T0 + dt.timedelta(minutes=30))
        assert third.deliveries == [] and len(slack.posts()) == 4


# == 2. Slack: text from documents ===================================================

def _mrkdwn_texts(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b["text"] for m in messages for b in m["blocks"] if b["type"] == "section"]


def test_slack_escapes_document_text_and_sends_it_verbatim():
    note = Notification("open", "phase2_to_phase3", "2026-02-09", "UNKNOWN_NAMES",
                        "phase2_to_phase3/2026-02-09/UNKNOWN_NAMES",
                        f"names the registry does not know: {PHISH} & <@U123> <#C1>",
                        ({"name": PHISH, "status": "<!here>", "last_reported": "<!everyone>"},))
    messages = slack_messages([note], "nba <!channel>")
    for text in _mrkdwn_texts(messages):
        assert text["type"] == "mrkdwn" and text["verbatim"] is True
        assert "<" not in text["text"] and ">" not in text["text"]
        assert "&lt;!channel&gt; &lt;https://evil.example/login|Click here&gt;" in text["text"]
        assert "&amp; &lt;@U123&gt;" in text["text"]
        assert "&lt;!here&gt;" in text["text"] and "&lt;!everyone&gt;" in text["text"]
    assert all("<" not in m["text"] for m in messages)  # the fallback text too
    for block in (b for m in messages for b in m["blocks"] if b["type"] == "header"):
        assert block["text"]["type"] == "plain_text"


def test_slack_escapes_ampersand_first_and_truncation_never_leaves_a_raw_bracket():
    note = Notification("open", "t", "d", "LATE", "t/d/LATE", "&lt;" + "<" * 4000)
    [text] = _mrkdwn_texts(slack_messages([note], "p"))
    assert text["text"].count("&amp;lt;") == 1 and "<" not in text["text"]
    assert len(text["text"]) <= 3000


@pytest.mark.usefixtures("emulators")
def test_an_unknown_name_from_a_document_reaches_slack_escaped(project_id, monkeypatch):
    with recorder() as slack:
        monkeypatch.setenv("TEST_SLACK", slack.url)
        settings = make_settings([{"slack": {"url_env": "TEST_SLACK"}}])
        body = late_body(PHASE2)
        body["_triggered"] = True
        body["_unknown"] = {PHISH: {"status": "success"}}
        body[PHISH + " top-level"] = {"status": "success"}
        seed(project_id, "2026-02-09", body)
        result, _, _ = run(project_id, settings)
        assert [c.state for c in result.checks if c.alerting] == ["UNKNOWN_NAMES"]
        [message] = slack.posts()
        texts = _mrkdwn_texts([message])
        assert texts and all(t["verbatim"] is True for t in texts)
        raw = json.dumps(message)
        assert "<!channel>" not in raw and "<https://" not in raw
        assert "&lt;!channel&gt;" in raw


def test_terminal_output_escapes_control_characters_from_documents():
    document = late_body(PHASE2)
    document["_triggered"] = True
    document["\x1b[2J\nALERT LATE spoofed"] = {"status": "success"}
    checks = evaluate("phase2_to_phase3", "2026-02-09", document, T0, make_settings([]))
    text = RunResult(T0, checks=checks).as_text()
    assert "\x1b" not in text and "\nALERT LATE spoofed" not in text
    assert "\\x1b[2J\\nALERT LATE spoofed" in text


@pytest.mark.usefixtures("emulators")
def test_the_generic_webhook_carries_no_secret_of_a_failing_channel(project_id, monkeypatch):
    with recorder() as hook, recorder() as slack:
        slack.script += [(500, {})] * 3
        monkeypatch.setenv("TEST_SLACK", slack.url)
        monkeypatch.setenv("TEST_HOOK", hook.url)
        settings = make_settings([{"slack": {"url_env": "TEST_SLACK"}},
                                  {"webhook": {"url_env": "TEST_HOOK"}}])
        seed(project_id, "2026-02-09", late_body())
        result, _, logged = run(project_id, settings)
        assert result.exit_code == EXIT_FAILED
        error = next(e for e in result.errors if "slack" in e)
        assert "http://127.0.0.1: HTTP 500" in error and "/services/" not in error
        assert sent(hook) == [("open", "LATE"), ("open", "CANARY_ERROR")]
        assert SECRET not in json.dumps(hook.posts()) + everything_shown(result, logged)


# == 3. malformed documents ==========================================================

MALFORMED = {
    "_unknown is text": {"_unknown": "oops"},
    "_unknown is a list": {"_unknown": ["a"] * 5000},
    "an entry is text": {PHASE2[0]: "yes"},
    "an entry is a huge list": {PHASE2[0]: list(range(50000))},
    "an entry is a number": {PHASE2[0]: 5},
    "_first_completion_at is a number": {"_first_completion_at": 5},
    "_triggered is text": {"_triggered": "yes"},
    "_trigger_reason is a map": {"_trigger_reason": {"a": 1}, "_triggered": True},
    "a status is a list": {PHASE2[0]: {"status": ["success"], "completed_at": FIRST}},
    "a completed_at is a map": {PHASE2[0]: {"status": "success", "completed_at": {"a": 1}}},
    "_expected holds numbers": {"_expected": [1, 2, 3]},
    "_unknown_count is text": {"_unknown_count": "many"},
    "the clock runs out": {"_first_completion_at": "9999-12-31T23:59:00+00:00"},
}


@pytest.mark.parametrize("fields", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_document_is_unreadable_naming_what(fields):
    document = {**late_body(), **fields}
    [check] = evaluate("phase2_to_phase3", "2026-02-09", document, T0, make_settings([]))
    assert (check.state, check.alerting) == ("UNREADABLE", True)
    field = next(iter(fields))
    assert field in check.detail or "interpreting it failed" in check.detail
    assert len(check.detail) < 1000


def test_a_malformed_document_in_the_history_does_not_spoil_other_run_keys():
    history = {"2026-02-08": {"_unknown": "oops", PHASE2[0]: {"status": ["success"]}},
               "2026-02-09": late_body()}
    checks = evaluate("phase2_to_phase3", "2026-02-09", history["2026-02-09"], T0,
                      make_settings([]), history)
    assert [c.state for c in checks] == ["LATE"]


@pytest.mark.usefixtures("emulators")
def test_a_malformed_document_never_stops_the_run(project_id, monkeypatch):
    with recorder() as hook:
        monkeypatch.setenv("TEST_HOOK", hook.url)
        settings = make_settings([{"webhook": {"url_env": "TEST_HOOK"}}])
        seed(project_id, "2026-02-08", {**late_body(), "_unknown": "oops"})
        seed(project_id, "2026-02-09", late_body())
        seed(project_id, "2026-02-07", {**late_body(), PHASE2[0]: ["x"] * 10000})
        result, store, _ = run(project_id, settings)
        states = {(c.run_key, c.state) for c in result.checks
                  if c.transition == "phase2_to_phase3" and c.alerting}
        assert states == {("2026-02-07", "UNREADABLE"), ("2026-02-08", "UNREADABLE"),
                          ("2026-02-09", "LATE")}
        assert len([c for c in result.checks if c.transition == "phase3_to_phase4"]) == 5
        assert result.exit_code == EXIT_ALERTING and result.errors == []
        assert sorted(sent(hook)) == [("open", "LATE"), ("open", "UNREADABLE"),
                                      ("open", "UNREADABLE")]
        assert store.read_heartbeat()["outcome"] == "alerting"


@pytest.mark.usefixtures("emulators")
def test_a_document_that_turns_malformed_keeps_its_incident_open(project_id, monkeypatch):
    """An UNREADABLE run key is not evidence that its LATE cleared: no false resolution."""
    with recorder() as hook:
        monkeypatch.setenv("TEST_HOOK", hook.url)
        settings = make_settings([{"webhook": {"url_env": "TEST_HOOK"}}])
        seed(project_id, "2026-02-09", late_body())
        run(project_id, settings)
        seed(project_id, "2026-02-09", {**late_body(), "_triggered": "yes"})
        later, _, _ = run(project_id, settings, T0 + dt.timedelta(minutes=15))
        assert sent(hook) == [("open", "LATE"), ("open", "UNREADABLE")]
        assert later.exit_code == EXIT_ALERTING


@pytest.mark.usefixtures("emulators")
def test_a_malformed_incident_document_is_reported_and_the_run_goes_on(project_id):
    incidents = client(project_id).collection("phasegate_incidents")
    incidents.document("nba-stats__x").set({"needs_attention": True, "pipeline": "nba-stats",
                                            "open": True, "pending": "oops"})
    incidents.document("nba-stats__y").set({"needs_attention": True, "pipeline": "nba-stats",
                                            "dedup_key": "t/2026-02-09/LATE", "open": True,
                                            "transition": 5})
    seed(project_id, "2026-02-09", late_body())
    result, store, _ = run(project_id, make_settings([{"log": {}}]))
    assert result.exit_code == EXIT_FAILED
    assert sum("cannot be read" in e for e in result.errors) == 2
    assert any(c.state == "LATE" for c in result.checks)
    assert store.read_heartbeat()["outcome"] == "error"


@pytest.mark.usefixtures("emulators")
def test_explain_explains_a_malformed_document(project_id, emulators):
    seed(project_id, "2026-02-09", {**late_body(), "_unknown": "oops", "_triggered": "yes",
                                    PHASE2[-1]: list(range(1000)), "\x1b[31mred": 1})
    env = {"GOOGLE_CLOUD_PROJECT": project_id, "NO_GCE_CHECK": "True",
           "FIRESTORE_EMULATOR_HOST": emulators["firestore"]}
    result = run_phasegate("explain", "phase2_to_phase3", "2026-02-09", "--now", NOW_ARG,
                           env=env)
    assert result.returncode == 0, result.stderr
    assert "UNREADABLE" in result.stdout and "_unknown" in result.stdout
    assert "\x1b" not in result.stdout and len(result.stdout) < 10000


# == 4. --now is a dry run unless --record ===========================================

@pytest.mark.usefixtures("emulators")
def test_now_without_record_sends_and_stores_nothing(project_id, emulators):
    seed(project_id, "2026-02-09", late_body())
    with recorder() as slack:
        env = {"GOOGLE_CLOUD_PROJECT": project_id, "NO_GCE_CHECK": "True",
               "FIRESTORE_EMULATOR_HOST": emulators["firestore"],
               "SLACK_WEBHOOK_URL": slack.url}
        replay = run_phasegate("canary", "run", "--once", "--now", NOW_ARG, "--format", "json",
                               env=env)
        assert replay.returncode == 1, replay.stderr
        document = json.loads(replay.stdout)
        assert document["dry_run"] is True
        assert all(not n["delivered"] for n in document["notifications"])
        assert slack.requests == []
        assert list(client(project_id).collection("phasegate_incidents").stream()) == []
        assert list(client(project_id).collection("phasegate_canary").stream()) == []
        # the next real run opens the incident: the replay opened and resolved nothing
        recorded = run_phasegate("canary", "run", "--once", "--now", NOW_ARG, "--record",
                                 env=env)
        assert recorded.returncode == 1, recorded.stderr
        assert len(slack.posts()) == 1


def test_record_is_documented_and_needs_now():
    helped = run_phasegate("canary", "run", "--help")
    assert "--record" in helped.stdout and "dry run" in helped.stdout
    alone = run_phasegate("canary", "run", "--once", "--record")
    assert alone.returncode == 2 and "--record" in alone.stderr
    both = run_phasegate("canary", "run", "--now", NOW_ARG, "--record", "--dry-run")
    assert both.returncode == 2


# == 5. no credentials ===============================================================

@pytest.mark.parametrize("project", ["some-project", None])
def test_no_credentials_exits_3_with_one_line_and_tells_the_channels(tmp_path, project):
    from tests.emulators import require_gcp

    require_gcp()  # the Google clients and functions-framework
    with recorder() as slack:
        extra = {"SLACK_WEBHOOK_URL": slack.url}
        if project:
            extra["GOOGLE_CLOUD_PROJECT"] = project
        env = clean_env(tmp_path, **extra)
        started = time.monotonic()
        result = phasegate("canary", "run", "--once", env=env)
        assert time.monotonic() - started < 60
        assert result.returncode == 3, result.stderr
        assert "Traceback" not in result.stderr
        human = [line for line in result.stderr.splitlines() if line.startswith("phasegate:")]
        assert len(human) == 1 and "credentials" in human[0]
        logged = [json.loads(line) for line in result.stderr.splitlines()
                  if line.startswith("{")]
        assert any("CANARY_ERROR" in line["message"] for line in logged)  # the log channel
        [message] = slack.posts()  # Slack's own format: one section, escaped, verbatim
        [section] = [b["text"] for b in message["blocks"] if b["type"] == "section"]
        assert "CANARY_ERROR" in section["text"] and "credentials" in section["text"]

        beat = phasegate("canary", "heartbeat", env=env)
        assert beat.returncode == 3 and "Traceback" not in beat.stderr
        human = [line for line in beat.stderr.splitlines() if line.startswith("phasegate:")]
        assert len(human) == 1 and "credentials" in human[0]
        assert len(slack.posts()) == 2

        explained = phasegate("explain", "phase2_to_phase3", "2026-02-09", env=env)
        assert explained.returncode == 3 and "Traceback" not in explained.stderr
        assert explained.stderr.count("\n") == 1 and "credentials" in explained.stderr


def test_the_deployed_canary_without_credentials_answers_500_and_tells_the_log(
        tmp_path, monkeypatch, capsys):
    from tests.emulators import require_gcp

    require_gcp()  # the Google clients and functions-framework
    from phasegate.canary import function_handler

    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "FIRESTORE_EMULATOR_HOST",
                 "SLACK_WEBHOOK_URL", "GCE_METADATA_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    canary_http = function_handler(REPO / "canary" / "expected.json",
                                   environ={"GOOGLE_CLOUD_PROJECT": "some-project"})
    body, status, _ = canary_http(None)
    assert status == 500
    assert "credentials" in json.loads(body)["errors"][0]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any("CANARY_ERROR" in line.get("message", "") for line in logged)


# == 6. non-finite and absurd settings, invalid schedules ============================

BAD_SETTINGS = {
    "renotify_hours inf": {"renotify_hours": float("inf")},
    "renotify_hours nan": {"renotify_hours": float("nan")},
    "renotify_hours negative": {"renotify_hours": -1},
    "renotify_hours absurd": {"renotify_hours": 1e300},
    "renotify_hours text": {"renotify_hours": "6"},
    "lookback_days absurd": {"lookback_days": 10**9},
    "lookback_days fraction": {"lookback_days": 2.5},
    "missing_run_after_hours inf": {"missing_run_after_hours": float("inf")},
    "schedule invalid": {"schedule": "*/15 * *"},
    "schedule out of range": {"schedule": "99 * * * *"},
    "quiet_periods malformed": {"quiet_periods": [{"from": 1}]},
}


@pytest.mark.usefixtures("emulators")
@pytest.mark.parametrize("canary", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_an_unusable_setting_is_a_canary_error_and_the_run_goes_on(project_id, monkeypatch,
                                                                   canary):
    with recorder() as hook:
        monkeypatch.setenv("TEST_HOOK", hook.url)
        settings = make_settings([{"webhook": {"url_env": "TEST_HOOK"}}], **canary)
        seed(project_id, "2026-02-09", late_body())
        result, store, _ = run(project_id, settings)
        assert result.exit_code == EXIT_FAILED
        key = next(iter(canary))
        assert any(f"canary.{key}" in e for e in result.errors), result.errors
        assert ("open", "LATE") in sent(hook)  # still evaluated, with the default
        assert ("open", "CANARY_ERROR") in sent(hook)
        assert store.read_heartbeat()["outcome"] == "error"


@pytest.mark.usefixtures("emulators")
def test_a_transition_with_a_non_finite_deadline_waits_and_keeps_its_incidents(project_id):
    settings = make_settings([{"log": {}}])
    seed(project_id, "2026-02-09", late_body())
    first, _, _ = run(project_id, settings)
    assert [c.state for c in first.checks if c.alerting] == ["LATE"]
    settings.expectations["transitions"]["phase2_to_phase3"]["deadline_minutes"] = float("inf")
    broken, store, logged = run(project_id, settings, T0 + dt.timedelta(minutes=15))
    assert broken.exit_code == EXIT_FAILED
    assert any("phase2_to_phase3: deadline_minutes is inf" in e for e in broken.errors)
    assert {c.transition for c in broken.checks} == {"phase3_to_phase4"}
    assert [d.notification.kind for d in broken.deliveries] == ["open"]  # the CANARY_ERROR
    assert "RESOLVE" not in logged
    assert store.read_heartbeat()["outcome"] == "error"


@pytest.mark.usefixtures("emulators")
def test_an_unknown_timezone_checks_nothing_and_resolves_nothing(project_id):
    settings = make_settings([{"log": {}}])
    seed(project_id, "2026-02-09", late_body())
    run(project_id, settings)
    settings.expectations["timezone"] = "Mars/Olympus_Mons"
    broken, store, logged = run(project_id, settings, T0 + dt.timedelta(hours=7))
    assert broken.exit_code == EXIT_FAILED and broken.checks == []
    assert "RESOLVE" not in logged and "CANARY_ERROR" in logged
    assert store.read_heartbeat()["outcome"] == "error"


@pytest.mark.usefixtures("emulators")
def test_the_deployed_canary_answers_500_on_a_non_finite_expected_json(project_id, tmp_path,
                                                                       monkeypatch):
    from phasegate.canary import function_handler
    from phasegate.runtime import content_digest

    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    data = copy.deepcopy(EXPECTED)
    data["canary"]["renotify_hours"] = float("inf")
    data["canary"]["notify"] = [{"log": {}}]
    data["content_digest"] = content_digest(data)
    path = tmp_path / "expected.json"
    path.write_text(json.dumps(data))  # Infinity: what json writes for .inf
    canary_http = function_handler(path, environ={"GOOGLE_CLOUD_PROJECT": project_id})
    body, status, _ = canary_http(None)
    assert status == 500
    assert any("renotify_hours is inf" in e for e in json.loads(body)["errors"])


@pytest.mark.usefixtures("emulators")
def test_the_loop_with_an_invalid_schedule_reports_and_stops(project_id, monkeypatch,
                                                            capsys):
    """`canary run` without --once needs the schedule: an invalid one is reported, not a
    crash between two runs."""
    from phasegate import cli
    from phasegate.canary import commands
    from phasegate.registry.loading import load_registry

    loaded = load_registry(REPO / "registry" / "processors.yaml", "registry/processors.yaml")
    settings = make_settings([{"log": {}}], schedule="every fifteen minutes")
    monkeypatch.setattr(commands, "settings_for", lambda *args: (loaded.registry, settings))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", project_id)
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("the loop slept"))
    code = cli.main(["canary", "run", "--format", "json", "--root", str(REPO)])
    captured = capsys.readouterr()
    assert code == EXIT_FAILED
    errors = json.loads(captured.out)["errors"]
    assert any("canary.schedule" in e for e in errors)
    assert any("this run is its last" in e for e in errors)
