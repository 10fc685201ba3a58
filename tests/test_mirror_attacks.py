"""Attacks on the BigQuery mirror and history: each of these failed before its fix."""

from __future__ import annotations

import datetime as dt
import io
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from phasegate.mirror import rows as mirror_rows
from phasegate.mirror.sender import BackgroundMirror, MirrorSender, bigquery_client
from tests.conftest import REPO
from tests.orchestrator_helpers import PHASE3, REFERENCE, FakeClock, checkpoints, completion, push

TRANSITION = "phase3_to_phase4"
COLLECTION = "phase3_completion"


class TrickleServer:
    """An HTTP server that answers 200 at once, then sends its body one byte every 0.5 s:
    every socket read succeeds within requests' read timeout, so the whole insert never ends
    within MIRROR_TIMEOUT_S (a stalled proxy, a half-dead load balancer)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 4000\r\n\r\n{")
            while not self.stop.is_set():
                conn.sendall(b" ")
                time.sleep(0.5)
        except OSError:
            pass
        finally:
            conn.close()

    def client_factory(self):
        env = {"BIGQUERY_EMULATOR_HOST": f"127.0.0.1:{self.port}"}
        return lambda project: bigquery_client(project, env)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def trickle(monkeypatch):
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    server = TrickleServer()
    yield server
    server.close()


AT = dt.datetime(2026, 2, 10, 3, 12, 5, tzinfo=dt.UTC)


def _row():
    return mirror_rows.completion_row(TRANSITION, "2026-02-09", "player_game_summary",
                                      "success", AT, "m1", None)


# -- 1. the "2 s, retries included" deadline is only a per-read socket timeout ---------------

def test_send_is_bounded_by_its_deadline_against_a_trickling_server(trickle):
    sender = MirrorSender("proj-x.ds.t", client_factory=trickle.client_factory(), timeout=2.0)
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(sender.send([_row()])), daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(8.0)  # 4x the documented whole-insert deadline
    assert not worker.is_alive(), (
        f"MirrorSender.send still running after {time.monotonic() - started:.1f}s "
        "(MIRROR_TIMEOUT_S = 2.0 claims 'the whole insert, retries included')")


# -- 2. a send the function stopped waiting for is never reported -----------------------------

@pytest.mark.usefixtures("emulators")
def test_a_mirror_insert_that_outlives_settle_is_a_mirror_failed(project_id, trickle):
    """The deployed function settles at most 3 s and then answers: rows still unconfirmed
    then (on a thread Cloud Functions may freeze) are a MIRROR_FAILED line and counted, so
    the canary's warning comes. A settle shorter than the insert's deadline shows it."""
    from tests.test_mirror_emulator import document, mirrored

    sender = MirrorSender("proj-x.ds.t", client_factory=trickle.client_factory(), timeout=2.0)
    clock = FakeClock()
    orchestrator, stream, _ = mirrored(project_id, sender, clock)
    orchestrator.handle_push(push(completion(PHASE3[0]), "m0"))
    settled = orchestrator.settle_mirror(1.0)  # shorter than the 2 s insert deadline
    assert settled is False  # the precondition: the insert is still running
    failed = [c for c in checkpoints(stream) if c["checkpoint"] == "MIRROR_FAILED"]
    assert failed, "rows abandoned by settle() were never reported as MIRROR_FAILED"
    assert (document(project_id) or {}).get("_mirror_failures", 0) >= 1


# -- 3. the worker's queue has no bound ---------------------------------------------------------

def test_the_background_queue_is_bounded_and_overflow_is_reported(trickle):
    sender = MirrorSender("proj-x.ds.t", client_factory=trickle.client_factory(), timeout=2.0)
    mirror = BackgroundMirror(sender)
    overflow: list[str] = []
    started = time.monotonic()
    for _ in range(3000):
        mirror.submit([_row()], overflow.append)
    submitting = time.monotonic() - started
    queued = len(mirror._pending)
    assert queued <= mirror.max_pending == 100, f"{queued} batches queued behind one insert"
    assert len(overflow) >= 2900 and "queue is full" in overflow[0]
    assert submitting < 2.0, f"3000 submits took {submitting:.1f} s"  # no list rebuilt each time


# -- 4. interpreter exit waits for every queued send -------------------------------------------

def test_interpreter_exit_is_not_held_by_pending_mirror_sends(trickle, tmp_path):
    script = tmp_path / "exit.py"
    script.write_text(textwrap.dedent(f"""
        import datetime as dt, os, time
        os.environ["NO_GCE_CHECK"] = "True"
        from phasegate.mirror import rows
        from phasegate.mirror.sender import BackgroundMirror, MirrorSender, bigquery_client
        env = {{"BIGQUERY_EMULATOR_HOST": "127.0.0.1:{trickle.port}"}}
        sender = MirrorSender("proj-x.ds.t", client_factory=lambda p: bigquery_client(p, env))
        mirror = BackgroundMirror(sender)
        at = dt.datetime(2026, 2, 10, tzinfo=dt.UTC)
        for i in range(3):
            mirror.submit([rows.completion_row("t", "2026-02-09", "p", "success", at,
                                               f"m{{i}}", None)], print)
        import threading
        deadline = time.monotonic() + 5  # until the insert is under way (held by the server)
        while time.monotonic() < deadline and not any(
                t.name == "phasegate-mirror-insert" for t in threading.enumerate()):
            time.sleep(0.01)
        print("exiting with an insert under way:", any(
            t.name == "phasegate-mirror-insert" for t in threading.enumerate()), flush=True)
    """), encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, str(script)], cwd=str(REPO), timeout=12,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("the process did not exit within 12 s: ThreadPoolExecutor's atexit hook "
                    "joins the mirror worker, which drains every queued send")
    assert done.returncode == 0, done.stderr
    assert "exiting with an insert under way: True" in done.stdout, done.stdout


# -- 5. a firing row is never re-sent; a completion row is ----------------------------------------

class LostMirror(BackgroundMirror):
    """The instance died (or was frozen and recycled) before the worker sent anything."""

    lost: list = []

    def submit(self, rows, on_failure):  # noqa: ARG002
        self.lost.extend(rows)


class RecordingClient:
    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.ids: list[str] = []

    def insert_rows_json(self, table, rows, row_ids=None, timeout=None, retry=None):  # noqa: ARG002
        self.rows.extend(rows)
        self.ids.extend(row_ids or ())
        return []


@pytest.mark.usefixtures("emulators")
def test_a_redelivery_after_a_lost_firing_row_sends_it_again(project_id):
    from phasegate.orchestrator.core import Orchestrator
    from phasegate.orchestrator.logs import CheckpointLog
    from phasegate.runtime import Expectations
    from tests.orchestrator_helpers import firestore_client

    table = "proj-x.ds.t"
    expectations = Expectations({**REFERENCE.data, "mirror": {"bigquery": {"table": table}}})
    clock = FakeClock()

    def build(mirror):
        return Orchestrator(TRANSITION, firestore_client(project_id), expectations=expectations,
                            clock=clock, project=project_id,
                            publish=lambda topic, data, attributes: "pub-1",
                            log=CheckpointLog(io.StringIO(), project=project_id), mirror=mirror)

    lost = LostMirror(MirrorSender(table, RecordingClient()))
    lost.lost = []
    first = build(lost)
    for index, name in enumerate(PHASE3):
        clock.advance(minutes=5)
        outcome = first.handle_push(push(completion(name), f"m{index}"))
    assert outcome.triggered_now
    # the instance dies before answering: Pub/Sub delivers the last message again
    client = RecordingClient()
    second = build(MirrorSender(table, client))
    clock.advance(minutes=1)
    second.handle_push(push(completion(PHASE3[-1]), f"m{len(PHASE3) - 1}"))
    assert second.settle_mirror(10)
    events = [r["event"] for r in client.rows]
    assert "completion" in events  # the completion row is sent again, same insert id
    assert "firing" in events, (
        "the firing row is lost for good: a redelivery re-sends the completion row but not "
        f"the firing (sent: {client.ids})")
    # the very rows first lost, under the very ids: BigQuery keeps one, history counts one
    [lost_firing] = [r for r in lost.lost if r["event"] == "firing"]
    [again] = [r for r in client.rows if r["event"] == "firing"]
    assert mirror_rows.insert_id(again) == mirror_rows.insert_id(lost_firing)
    assert (again["at_ts"], again["reason"], again["trigger_id"]) == (
        lost_firing["at_ts"], lost_firing["reason"], lost_firing["trigger_id"])


# -- 6. _mirror_failures counts failed sends, the canary says rows ---------------------------

class FailingClient:
    def insert_rows_json(self, table, rows, row_ids=None, timeout=None, retry=None):  # noqa: ARG002
        from google.api_core import exceptions

        raise exceptions.ServiceUnavailable("down")


@pytest.mark.usefixtures("emulators")
def test_mirror_failures_count_rows_as_the_canary_says(project_id):
    from phasegate.canary.evaluate import Settings, evaluate
    from tests.test_mirror_emulator import document, mirrored

    clock = FakeClock()
    orchestrator, _, _ = mirrored(project_id, MirrorSender("proj-x.ds.t", FailingClient()),
                                  clock)
    for index, name in enumerate(PHASE3):
        clock.advance(minutes=5)
        orchestrator.handle_push(push(completion(name), f"m{index}"))
    assert orchestrator.settle_mirror(30)
    data = document(project_id)
    lost = len(PHASE3) + 1  # five completion rows and the firing row
    settings = Settings({**REFERENCE.data, "canary": {"lookback_days": 3}})
    checks = {c.state: c for c in evaluate(TRANSITION, "2026-02-09", data,
                                           dt.datetime(2026, 2, 10, 16, tzinfo=dt.UTC),
                                           settings)}
    assert f"{lost} row(s)" in checks["MIRROR_FAILED"].detail, (
        f"{lost} rows were lost, the canary says: {checks['MIRROR_FAILED'].detail[:60]} "
        f"(_mirror_failures={data['_mirror_failures']} counts sends, not rows)")


# -- 7. a malformed detection time in the table -----------------------------------------------

class FakeQueryClient:
    def __init__(self, rows):
        self._rows = rows

    def query(self, *args, **kwargs):  # noqa: ARG002
        rows = self._rows

        class Job:
            def result(self, *a, **k):  # noqa: ARG002
                class Row(dict):
                    pass
                return [Row(r) for r in rows]
        return Job()


def test_history_from_a_malformed_row_is_one_line_not_a_traceback():
    from phasegate.history.command import build_history

    expectations = {**REFERENCE.data, "mirror": {"bigquery": {"table": "proj-x.ds.t"}}}
    row = {"event": "incident_open", "transition": TRANSITION, "run_key": "2026-02-09",
           "state": "LATE", "at_ts": dt.datetime(2026, 2, 9, 12, tzinfo=dt.UTC),
           "detected_after_s": "n/a"}  # a hand-made table (bq mk is skipped when one exists)
    history = build_history(expectations, {}, now=dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC),
                            days=7, project=None, bigquery_client=FakeQueryClient([row]))
    [incident] = [i for t in history.transitions for i in t.incidents]
    assert (incident.state, incident.run_key, incident.detected_after_s) == (
        "LATE", "2026-02-09", None)  # unknown, not a crash and not a made-up number


# -- 8. the orchestrator's MIRROR_FAILED line is not scrubbed, the canary's is ------------------

class LeakyClient:
    def insert_rows_json(self, table, rows, row_ids=None, timeout=None, retry=None):  # noqa: ARG002
        from google.api_core import exceptions

        raise exceptions.Forbidden("POST https://proxy.example/bigquery/v2/insertAll?"
                                   "access_token=ya29.SECRETTOKEN: denied")


@pytest.mark.usefixtures("emulators")
def test_mirror_failed_line_does_not_carry_url_secrets(project_id):
    from tests.test_mirror_emulator import mirrored

    clock = FakeClock()
    orchestrator, stream, _ = mirrored(project_id, MirrorSender("proj-x.ds.t", LeakyClient()),
                                       clock)
    orchestrator.handle_push(push(completion(PHASE3[0]), "m0"))
    assert orchestrator.settle_mirror(30)
    failed = [c for c in checkpoints(stream) if c["checkpoint"] == "MIRROR_FAILED"]
    assert failed
    assert "SECRETTOKEN" not in failed[0]["message"], failed[0]["message"]
