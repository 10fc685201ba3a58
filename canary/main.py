"""The HTTP Cloud Function entry for Cloud Scheduler: ``canary_http(request)``.

Reads the packaged ``canary/expected.json`` (generated from the registry),
runs the canary once, and answers 200 with the run's JSON when the run
completed (alerting or not) and 500 when the canary could not do its job, so
that Cloud Scheduler records the failure too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def canary_http(request: Any) -> tuple[str, int, dict[str, str]]:
    from google.cloud import firestore

    from phasegate.canary.expectations import load_expectations
    from phasegate.canary.run import EXIT_FAILED, run_once
    from phasegate.canary.settings import settings_from
    from phasegate.canary.store import CanaryStore

    settings = settings_from(load_expectations(), ROOT)
    store = CanaryStore(firestore.Client(project=os.environ.get("GOOGLE_CLOUD_PROJECT")))
    result = run_once(store, settings, dt.datetime.now(dt.UTC))
    status = 500 if result.exit_code == EXIT_FAILED else 200
    return json.dumps(result.as_json(), default=str), status, {
        "Content-Type": "application/json"}
