"""The status grid's one Firestore read: shared by ``phasegate status`` and ``GET /status``.

Read-only by construction: it calls the canary store's batched get and
nothing else (no incidents, no heartbeat, no claim, no commit), so looking at
the page can never open, resolve or notify anything. A failure to read is
the grid's ``error``, never an exception: the caller still shows a page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from phasegate.canary.evaluate import Settings
from phasegate.status.grid import Grid, View, build_grid, unreadable_grid

READ_TIMEOUT_S = 15.0  # a person is waiting; the canary's own runs allow 30 s


def read_grid(settings: Settings, now: dt.datetime, days: int, *, project: str | None = None,
              client: Any = None) -> Grid:
    """Evaluate every transition for ``days`` before today through tomorrow.

    ``client``: a Firestore client (made from ``project`` and the environment
    when None). Made only when there is something to read: a registry without
    transitions needs no Firestore at all.
    """
    from phasegate.canary.run import one_line
    from phasegate.canary.store import CanaryStore, FirestoreUnavailable, firestore_client

    view = View.of(settings, now)
    wanted = view.wanted(days)
    if not wanted:
        return build_grid(view, {}, now, days)
    pipeline = str(view.settings.expectations.get("pipeline", ""))
    store = None
    try:
        store = CanaryStore(client if client is not None else firestore_client(project),
                            pipeline=pipeline, timeout=READ_TIMEOUT_S)
        documents = store.read_documents(wanted)
    except FirestoreUnavailable as error:
        return unreadable_grid(view, now, days, str(error))
    except Exception as error:  # noqa: BLE001 - unreadable is a state of the page, not a crash
        calls = dict(store.calls) if store is not None else {}
        return unreadable_grid(view, now, days, f"the batched read failed: {one_line(error)}",
                               calls=calls)
    return build_grid(view, documents, now, days, calls=dict(store.calls))
