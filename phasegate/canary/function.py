"""The canary's Cloud Function entry point, bound to the expected.json deployed beside it.

Cloud Scheduler calls it; it runs the canary once and answers 200 with the
run's JSON when the run completed (alerting or not) and 500 when the canary
could not do its job, so that Cloud Scheduler records the failure too. A
missing or foreign expected.json fails at cold start with one log line.

``GET /status`` (HTML) and ``GET /status.json`` are read-only views of the
same evaluation (:mod:`phasegate.status.http`): they never run the canary,
so looking cannot notify, fire or record anything; other methods on those
paths answer 405. Every other path is the canary's run, as before.

The canary fires tiers that come due (and retries pending firings) through
the orchestrator's path, so an HTTP target it cannot reach from its own
environment (URL variable unset or refused, audience variable unset) is a
problem of every run, reported like a settings problem (CANARY_ERROR): the
canary still evaluates and alerts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import functions_framework

from phasegate.canary.evaluate import Settings
from phasegate.canary.settings import settings_from
from phasegate.runtime import Expectations, ExpectationsError

CanaryHttp = Callable[[Any], tuple[str, int, dict[str, str]]]


def _cold_start_failed(message: str, path: Path | str) -> None:
    entry = {"severity": "CRITICAL", "message": f"COLD_START_FAILED canary: {message}",
             "checkpoint": "COLD_START_FAILED", "file": str(path)}
    sys.stdout.write(json.dumps(entry, sort_keys=True) + "\n")
    sys.stdout.flush()


def load_settings(path: Path | str, environ: dict[str, str]) -> Settings:
    """The canary's settings from its deployed expected.json, checked against the plan's digest."""
    expectations = Expectations.load(path)
    wanted = environ.get("PHASEGATE_REGISTRY_DIGEST", "")
    if wanted and wanted != expectations.registry_digest:
        raise ExpectationsError(
            f"{path} was generated from another registry (digest "
            f"{expectations.registry_digest[:12]}, the deployment expects {wanted[:12]}); run "
            "`phasegate generate` and deploy again")
    return settings_from(expectations)


def target_problems(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """Every transition whose HTTP target the canary could not fire from ``environ``."""
    from phasegate.orchestrator.function import http_target_problem

    transitions = settings.expectations.get("transitions")
    if not isinstance(transitions, Mapping):
        return []  # the run's own settings check says so
    problems = []
    for name in sorted(transitions):
        spec = transitions[name]
        problem = http_target_problem(name, spec, environ) if isinstance(spec, Mapping) else None
        if problem:
            problems.append(f"the canary cannot fire this target when a tier comes due: "
                            f"{problem}")
    return problems


def function_handler(path: Path | str, *, environ: dict[str, str] | None = None) -> CanaryHttp:
    """``canary_http(request)`` for the expected.json at ``path``; fails at cold start if bad."""
    env = dict(os.environ if environ is None else environ)
    try:
        settings = load_settings(path, env)
    except ExpectationsError as error:
        _cold_start_failed(str(error), path)
        raise
    project = env.get("GOOGLE_CLOUD_PROJECT")
    problems = target_problems(settings, env)  # the environment is fixed for the instance

    def canary_http(request: Any) -> tuple[str, int, dict[str, str]]:
        """Run the canary once (Cloud Scheduler's POST), or show the status page.

        No credentials, an unreachable Firestore or any other failure answers
        500 with the run's JSON, after telling every channel that works.
        """
        from phasegate.canary.run import EXIT_FAILED, report_failure, run_once
        from phasegate.canary.store import CanaryStore, FirestoreUnavailable, firestore_client
        from phasegate.status.http import status_route

        view = status_route(str(getattr(request, "path", "") or ""))
        if view is not None:  # before anything that runs the canary
            return _status(request, view, settings, project)
        if str(getattr(request, "method", "POST")).upper() != "POST":
            # a browser's /favicon.ico, a link preview, a typo: none of them runs the canary
            return ("405 the canary runs on POST (Cloud Scheduler's); GET /status shows the "
                    "status page\n", 405, {"Allow": "POST", "Content-Type": "text/plain"})
        now = dt.datetime.now(dt.UTC)
        try:
            store = CanaryStore(firestore_client(project),
                                pipeline=str(settings.expectations["pipeline"]))
            result = run_once(store, settings, now, problems=problems)
        except FirestoreUnavailable as error:
            result = report_failure(settings, now, f"the canary could not reach Firestore: "
                                                   f"{error}")
        except Exception as error:  # noqa: BLE001 - Cloud Scheduler records a 500, not a crash
            result = report_failure(settings, now, f"the canary failed: "
                                                   f"{type(error).__name__}")
        status = 500 if result.exit_code == EXIT_FAILED else 200
        return json.dumps(result.as_json(), default=str), status, {
            "Content-Type": "application/json"}

    functions_framework.http(canary_http)  # registers the signature by name
    return canary_http


def _status(request: Any, view: str, settings: Settings, project: str | None,
            ) -> tuple[str, int, dict[str, str]]:
    """The read-only status page; whatever goes wrong, a short answer and no traceback."""
    from phasegate.status.http import respond

    args = getattr(request, "args", None)
    days = args.get("days") if args is not None else None
    query = {"days": str(days)} if days is not None else {}
    try:
        return respond(str(getattr(request, "method", "GET")), view, query, settings,
                       project=project)
    except Exception as error:  # noqa: BLE001 - a page view never crashes the function
        return (f"500 the status page failed: {type(error).__name__}\n", 500,
                {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"})
