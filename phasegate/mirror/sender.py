"""Send mirror rows to BigQuery: bounded in time, never raising. The I/O edge.

:class:`MirrorSender` inserts rows with their insert ids through
google-cloud-bigquery's streaming insert (one request per call, a total
deadline, no retry past it) and answers with a one-line reason when that did
not work: the table or dataset missing, BigQuery unavailable, a row
rejected. :class:`BackgroundMirror` does the same on one worker thread, so the
caller (the orchestrator, after its Firestore commit) does not wait for it.

The client is injectable; by default it is made on first use for the
table's project, and ``BIGQUERY_EMULATOR_HOST`` (``host:port``) points it at
an emulator with anonymous credentials, as ``FIRESTORE_EMULATOR_HOST`` does
for Firestore.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from phasegate.mirror.rows import insert_id, split_table

MIRROR_TIMEOUT_S = 2.0  # the whole insert, retries included
EMULATOR_VARIABLE = "BIGQUERY_EMULATOR_HOST"
MAX_REASON_CHARS = 300


def bigquery_client(project: str, environ: Mapping[str, str] | None = None) -> Any:
    """A BigQuery client for ``project``; an emulator's when BIGQUERY_EMULATOR_HOST is set."""
    from google.cloud import bigquery

    env = os.environ if environ is None else environ
    host = env.get(EMULATOR_VARIABLE, "").strip()
    if host:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        endpoint = host if host.startswith("http") else f"http://{host}"
        return bigquery.Client(project=project, credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                               client_options=ClientOptions(api_endpoint=endpoint))
    return bigquery.Client(project=project)


def one_line(text: str) -> str:
    """One short line, URLs shown as scheme and host only (a query may hold a token)."""
    from phasegate.urls import without_url_secrets

    flat = " ".join(without_url_secrets(str(text)).split())
    return flat if len(flat) <= MAX_REASON_CHARS else flat[:MAX_REASON_CHARS - 1] + "…"


def describe_failure(table: str, error: BaseException) -> str:
    """Why an insert failed, for a MIRROR_FAILED line: the kind first, then the error."""
    from google.api_core import exceptions

    cause: BaseException = error
    if isinstance(error, exceptions.RetryError) and error.cause is not None:
        cause = error.cause
    text = one_line(f"{type(cause).__name__}: {cause}")
    if isinstance(cause, exceptions.NotFound):
        lowered = str(cause).lower()
        what = "dataset" if "dataset" in lowered and "table" not in lowered else \
            "table or dataset"
        return f"{what} of {table} not found ({text})"
    if isinstance(cause, exceptions.BadRequest | exceptions.InternalServerError):
        return f"BigQuery rejected the rows for {table} ({text})"
    if isinstance(cause, exceptions.Forbidden | exceptions.Unauthorized):
        return f"not allowed to insert into {table} ({text})"
    return f"BigQuery unavailable for {table} ({text})"


def describe_insert_errors(errors: Sequence[Mapping[str, Any]],
                           ids: Sequence[str]) -> str | None:
    """The rows BigQuery refused (``insertAll``'s ``insertErrors``), or None when none."""
    if not errors:
        return None
    parts = []
    for item in errors[:3]:
        index = item.get("index")
        which = ids[index] if isinstance(index, int) and 0 <= index < len(ids) else "?"
        messages = "; ".join(str(e.get("message") or e.get("reason") or e)
                             for e in item.get("errors") or ())
        parts.append(f"{which}: {messages or 'rejected'}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return one_line(f"row rejected: {', '.join(parts)}{more}")


class InsertTimedOut(Exception):
    """The insert did not finish within the sender's deadline."""


class MirrorSender:
    """Inserts rows into one table; :meth:`send` returns None or why it failed."""

    def __init__(self, table: str, client: Any | None = None, *,
                 timeout: float = MIRROR_TIMEOUT_S,
                 client_factory: Callable[[str], Any] | None = None) -> None:
        self.table = table
        self.client = client
        self.timeout = timeout
        self.client_factory = client_factory or bigquery_client
        self.sent = 0
        self.failed = 0
        self._lock = threading.Lock()

    def _client(self) -> Any:
        with self._lock:
            if self.client is None:
                self.client = self.client_factory(split_table(self.table)[0])
            return self.client

    def _insert(self, rows: Sequence[Mapping[str, Any]], ids: list[str]) -> Any:
        """The streaming insert, bounded in wall-clock time: a server that answers slowly,
        a byte at a time, cannot hold it past ``timeout`` (the client bounds each read only).
        """
        from google.cloud.bigquery import DEFAULT_RETRY

        client = self._client()
        retry = DEFAULT_RETRY.with_deadline(self.timeout)
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["errors"] = client.insert_rows_json(
                    self.table, [dict(item) for item in rows], row_ids=ids,
                    timeout=self.timeout, retry=retry)
            except Exception as error:  # noqa: BLE001 - re-raised below, on the caller's thread
                outcome["error"] = error

        worker = threading.Thread(target=call, name="phasegate-mirror-insert", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():  # left behind: a daemon thread never holds the process
            raise InsertTimedOut
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("errors")

    def send(self, rows: Sequence[Mapping[str, Any]]) -> str | None:
        """Insert ``rows`` (each with its insert id) within ``timeout``; never raises."""
        if not rows:
            return None
        ids = [insert_id(item) for item in rows]
        try:
            errors = self._insert(rows, ids)
        except InsertTimedOut:
            self.failed += 1
            return f"BigQuery did not answer within {self.timeout:g} s ({self.table})"
        except Exception as error:  # noqa: BLE001 - the mirror never fails its caller
            self.failed += 1
            if isinstance(error, ValueError | ImportError):
                return one_line(f"the mirror cannot send to {self.table}: "
                                f"{type(error).__name__}: {error}")
            if any(cls.__name__ == "DefaultCredentialsError" for cls in type(error).__mro__):
                return f"no Google credentials for BigQuery ({self.table})"
            try:
                return describe_failure(self.table, error)
            except Exception:  # noqa: BLE001
                return one_line(f"{type(error).__name__}: {error}")
        problem = describe_insert_errors(list(errors or ()), ids)
        if problem:
            self.failed += 1
            return f"{problem} ({self.table})"
        self.sent += len(rows)
        return None


Failure = Callable[[str], None]
MAX_PENDING = 100  # batches waiting on BigQuery; beyond it new ones fail at once
SETTLE_CAP_S = 30.0  # the longest settle(None) waits in all


class _Batch:
    """Rows handed to the worker, reported as failed at most once."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], on_failure: Failure) -> None:
        self.rows = rows
        self.on_failure = on_failure
        self.done = threading.Event()
        self._reported = False
        self._lock = threading.Lock()

    def fail(self, reason: str) -> None:
        with self._lock:
            if self._reported:
                return
            self._reported = True
        with contextlib.suppress(Exception):  # a failing report never stops the worker
            self.on_failure(reason)


class BackgroundMirror:
    """A sender on one daemon worker thread: :meth:`submit` returns at once, :meth:`settle`
    waits (bounded).

    ``on_failure(reason)`` runs once per batch that failed, on the worker thread or, for
    a batch still unconfirmed when :meth:`settle` gives up, on the caller's. At most
    MAX_PENDING batches wait; beyond that a batch fails at once ("queue full"), so one
    stuck BigQuery cannot grow memory without bound. The thread is a daemon: a process
    exits without waiting for BigQuery. Rows are sent in the order submitted.
    """

    def __init__(self, sender: MirrorSender, max_pending: int = MAX_PENDING) -> None:
        self.sender = sender
        self.max_pending = max_pending
        self._queue: queue.Queue[_Batch] = queue.Queue()
        self._pending: deque[_Batch] = deque()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def table(self) -> str:
        return self.sender.table

    def submit(self, rows: Sequence[Mapping[str, Any]], on_failure: Failure) -> None:
        batch = _Batch(rows, on_failure)
        with self._lock:
            while self._pending and self._pending[0].done.is_set():
                self._pending.popleft()
            full = len(self._pending) >= self.max_pending
            if not full:
                self._pending.append(batch)
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._work, daemon=True,
                                                    name="phasegate-mirror")
                    self._thread.start()
        if full:
            batch.fail(f"the mirror's queue is full ({self.max_pending} batches waiting on "
                       f"BigQuery for {self.table}); these rows are dropped")
            batch.done.set()
            return
        self._queue.put(batch)

    def _work(self) -> None:
        while True:
            batch = self._queue.get()
            try:
                reason = self.sender.send(batch.rows)
                if reason is not None:
                    batch.fail(reason)
            finally:
                batch.done.set()

    def settle(self, timeout: float | None = None) -> bool:
        """Wait for every submitted batch (at most ``timeout`` s in all, SETTLE_CAP_S when
        None); True when all are done. A batch still unconfirmed is reported as failed."""
        import time

        limit = min(SETTLE_CAP_S, (self.sender.timeout + 8.0) * max(1, len(self._pending))) \
            if timeout is None else timeout
        deadline = time.monotonic() + limit
        with self._lock:
            pending = list(self._pending)
        settled = True
        for batch in pending:
            if not batch.done.wait(max(0.0, deadline - time.monotonic())):
                settled = False
                batch.fail(f"not confirmed by BigQuery within {limit:g} s ({self.table}); "
                           "the rows may arrive later or be lost")
        return settled
