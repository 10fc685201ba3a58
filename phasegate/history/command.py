"""``phasegate history``: read the window (BigQuery when mirrored, else Firestore) and report.

Exit codes: 0 reported; 2 usage; 3 the store could not be read (one line, no traceback).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from phasegate.usage import UsageError

if TYPE_CHECKING:
    from phasegate.history.compute import History
    from phasegate.registry.loading import LoadedRegistry

EXIT_OK, EXIT_UNREACHABLE = 0, 3
READ_TIMEOUT_S = 20.0  # every read, retries included: an unreachable store is exit 3 soon
COLUMNS = ("event, transition, run_key, processor, status, state, reason, at_ts, "
           "detected_after_s, message_id, trigger_id")


class StoreUnreachable(Exception):
    """BigQuery or Firestore could not be read: a one-line reason."""


def read_rows(table: str, first_day: str, last_day: str, client: Any | None = None,
              ) -> list[dict[str, Any]]:
    """The mirror's rows of the window (one query)."""
    from google.cloud import bigquery

    from phasegate.mirror.rows import split_table
    from phasegate.mirror.sender import bigquery_client

    client = client or bigquery_client(split_table(table)[0])
    config = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter("first_day", "STRING", first_day),
        bigquery.ScalarQueryParameter("last_day", "STRING", last_day)])
    retry = bigquery.DEFAULT_RETRY.with_deadline(READ_TIMEOUT_S)
    job = client.query(f"SELECT {COLUMNS} FROM `{table}` WHERE run_key >= @first_day AND "
                       "run_key <= @last_day ORDER BY at_ts", job_config=config,
                       timeout=READ_TIMEOUT_S, retry=retry, job_retry=None)
    return [dict(row.items()) for row in job.result(timeout=READ_TIMEOUT_S, retry=retry,
                                                    job_retry=None)]


def read_firestore(client: Any, expectations: Mapping[str, Any], pipeline: str,
                   first_day: str, last_day: str,
                   ) -> tuple[dict[tuple[str, str], dict[str, Any] | None], list[dict[str, Any]]]:
    """Every transition's documents of the window (one batched get) and the pipeline's
    incidents (one query)."""
    from google.api_core.retry import Retry, if_transient_error
    from google.cloud.firestore_v1.base_query import FieldFilter

    from phasegate.canary.store import INCIDENTS

    start = dt.date.fromisoformat(first_day)
    days = (dt.date.fromisoformat(last_day) - start).days + 1
    keys = [(start + dt.timedelta(days=d)).isoformat() for d in range(days)]
    pairs = [(spec["collection"], key) for spec in expectations["transitions"].values()
             for key in keys]
    references = [client.collection(c).document(k) for c, k in pairs]
    found: dict[tuple[str, str], dict[str, Any] | None] = dict.fromkeys(pairs)
    retry = Retry(predicate=if_transient_error, timeout=READ_TIMEOUT_S)
    for snapshot in client.get_all(references, retry=retry, timeout=READ_TIMEOUT_S):
        if snapshot.exists:
            found[(snapshot.reference.parent.id, snapshot.id)] = snapshot.to_dict()
    query = client.collection(INCIDENTS).where(
        filter=FieldFilter("pipeline", "==", pipeline))
    incidents = [snapshot.to_dict() or {}
                 for snapshot in query.get(retry=retry, timeout=READ_TIMEOUT_S)]
    return found, incidents


def build_history(expectations: Mapping[str, Any], canary: Mapping[str, Any], *,
                  now: dt.datetime, days: int, project: str | None,
                  bigquery_client: Any | None = None, firestore_client: Any | None = None,
                  ) -> History:
    from phasegate.history.compute import from_firestore, from_rows, window

    first_day, last_day = window(now, str(expectations["timezone"]), days)
    mirror: Any = expectations.get("mirror")
    if mirror:
        table = str(mirror["bigquery"]["table"])
        try:
            rows = read_rows(table, first_day, last_day, bigquery_client)
        except Exception as error:  # noqa: BLE001 - one line for a person, exit 3
            raise StoreUnreachable(f"cannot read BigQuery table {table}: "
                                   f"{_one_line(error)}") from None
        return from_rows(rows, expectations, first_day, last_day)
    from phasegate.canary.store import FirestoreUnavailable
    from phasegate.canary.store import firestore_client as make_client

    try:
        client = firestore_client or make_client(project)
        documents, incidents = read_firestore(client, expectations,
                                              str(expectations["pipeline"]), first_day,
                                              last_day)
    except FirestoreUnavailable as error:
        raise StoreUnreachable(f"cannot reach Firestore: {error}") from None
    except Exception as error:  # noqa: BLE001
        raise StoreUnreachable(f"cannot read Firestore: {_one_line(error)}") from None
    return from_firestore(documents, incidents, expectations, first_day, last_day,
                          float(canary.get("missing_run_after_hours", 30)))


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def history_command(loaded: LoadedRegistry, root: Path, *, days: int, output_format: str,
                    now: dt.datetime | None, project: str | None, out: TextIO,
                    err: TextIO) -> int:
    from phasegate.canary.commands import settings_for
    from phasegate.history.report import as_json, as_text

    if days < 1:
        raise UsageError("--days must be at least 1")
    _, settings = settings_for(loaded, root)
    moment = now or dt.datetime.now(dt.UTC)
    try:
        history = build_history(settings.expectations, settings.canary, now=moment, days=days,
                                project=project)
    except StoreUnreachable as error:
        print(f"phasegate: error: {error}", file=err)
        return EXIT_UNREACHABLE
    if output_format == "json":
        out.write(json.dumps(as_json(history), indent=2, sort_keys=True) + "\n")
    else:
        out.write(as_text(history))
    return EXIT_OK
