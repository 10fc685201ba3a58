"""The Cloud Function entry points, bound to one deployment's generated expectations.

``function_handlers(path)`` runs at cold start: it reads the generated
module, checks that it serves ``PHASEGATE_TRANSITION`` (and, when the
deployment plan set ``PHASEGATE_REGISTRY_DIGEST``, that it comes from that
registry), and fails right there with one JSON log line naming the file if
not, never at the first message. A transition that fires by POSTing to an HTTP
target is checked there too: its URL variable set and a URL the rules
accept, its audience variable set when the registry names one (the firing
itself may come hours later). The Firestore and Pub/Sub clients are
created on the first delivery, so the import stays cheap.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import functions_framework
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response

from phasegate.orchestrator.core import Orchestrator, TriggerInProgress, TriggerPublishFailed
from phasegate.orchestrator.logs import CheckpointLog
from phasegate.orchestrator.store import StoreUnavailable
from phasegate.runtime import Expectations, ExpectationsError
from phasegate.urls import UrlRefused, is_loopback, parse_secret_url

Answer = tuple[str, int] | tuple[str, int, dict[str, str]]
OnCompletion = Callable[[Any], None]
OnPush = Callable[[Any], Answer]
# A delivery that failed for a reason that passes (the checkpoint its log line has):
# answered non-2xx so that Pub/Sub delivers it again, without a traceback.
RETRYABLE: tuple[tuple[type[Exception], str], ...] = (
    (StoreUnavailable, "STORE_UNAVAILABLE"),
    (TriggerInProgress, "TRIGGER_IN_PROGRESS"),
    (TriggerPublishFailed, "TRIGGER_FAILED"),
)
RETRY_STATUS = 503
MIRROR_SETTLE_S = 3.0  # the mirror's own insert deadline is 2 s
JSON = {"Content-Type": "application/json"}


class ColdStartFailed(RuntimeError):
    """The deployment cannot serve: wrong or missing generated file, or unset variables."""


def http_target_problem(transition: str, spec: Mapping[str, Any],
                        environ: Mapping[str, str]) -> str | None:
    """Why ``transition``'s HTTP target cannot be fired from ``environ``; None if it can.

    Checks what a firing would read: the URL variable (set, and a URL that
    :func:`phasegate.urls.parse_secret_url` accepts) and the audience variable
    when the target names one. Names variables, never their values (a refused
    URL shows at most its scheme and host). Any other target: None.
    """
    target = spec.get("target")
    if not isinstance(target, Mapping) or target.get("kind") != "http":
        return None
    url_env = str(target.get("url_env") or "")
    fires = f"{transition} fires by POSTing to the URL in {url_env}"
    fix = "set it on the function (`phasegate deploy plan` passes it) and deploy again"
    if not environ.get(url_env, "").strip():
        return f"{fires}, but environment variable {url_env} is not set; {fix}"
    try:
        url = parse_secret_url(environ[url_env], f"the URL in {url_env}")
    except UrlRefused as error:
        return f"{transition} fires by POSTing to a URL the rules refuse: {error}"
    audience_env = target.get("audience_env")
    if isinstance(audience_env, str) and audience_env and not is_loopback(url.host) \
            and not environ.get(audience_env, "").strip():
        # (a loopback URL is a local test: no ID token is fetched for it)
        return (f"{fires} with an ID token for the audience in {audience_env}, but environment "
                f"variable {audience_env} is not set; {fix}")
    return None


def check_deployment(expectations: Expectations, environ: dict[str, str]) -> str:
    """The transition this deployment serves, or ColdStartFailed saying what is wrong."""
    transition = environ.get("PHASEGATE_TRANSITION", "")
    if not transition:
        known = ", ".join(sorted(expectations.transitions))
        raise ColdStartFailed(f"PHASEGATE_TRANSITION is not set; {expectations.source} serves "
                              f"one of: {known}")
    try:
        spec = expectations.transition(transition)
    except ExpectationsError as error:
        raise ColdStartFailed(str(error)) from error
    wanted = environ.get("PHASEGATE_REGISTRY_DIGEST", "")
    if wanted and wanted != expectations.registry_digest:
        raise ColdStartFailed(
            f"{expectations.source} was generated from another registry (digest "
            f"{expectations.registry_digest[:12]}, the deployment expects {wanted[:12]}); "
            "run `phasegate generate` and deploy again")
    problem = http_target_problem(transition, spec, environ)
    if problem:
        raise ColdStartFailed(problem)
    return transition


def retry_body(checkpoint: str) -> str:
    """The short answer to a delivery Pub/Sub should make again (details are in the log)."""
    return json.dumps({"checkpoint": checkpoint, "redeliver": True,
                       "message": f"{checkpoint}: see its log line; Pub/Sub delivers again"})


def retryable_checkpoint(error: Exception) -> str | None:
    """The checkpoint of a failure that a redelivery may cure, None for any other."""
    for kind, checkpoint in RETRYABLE:
        if isinstance(error, kind):
            return checkpoint
    return None


class Redeliver(ServiceUnavailable):
    """A CloudEvent delivery to fail quietly: a 503 with a short JSON body, no traceback.

    functions-framework ignores a CloudEvent function's return value, so raising
    is the only way to answer non-2xx; an HTTP exception is answered as it is,
    where any other exception is logged with its traceback.
    """

    def __init__(self, checkpoint: str) -> None:
        super().__init__(description=checkpoint, response=Response(
            retry_body(checkpoint), RETRY_STATUS, headers=JSON))


def _settle(built: list[Orchestrator]) -> None:
    """Let the BigQuery mirror's insert finish before answering (bounded): Cloud Functions
    may take the CPU away once a request is answered. Firestore was written before it."""
    settle = getattr(built[0], "settle_mirror", None) if built else None
    if settle is not None:
        with contextlib.suppress(Exception):  # the answer is decided; the mirror never changes it
            settle(MIRROR_SETTLE_S)


def function_handlers(path: Path | str, *, environ: dict[str, str] | None = None,
                      log: CheckpointLog | None = None) -> tuple[OnCompletion, OnPush]:
    """``(on_completion, on_push)`` for the generated expectations at ``path``.

    ``on_completion`` takes an Eventarc CloudEvent; ``on_push`` a Pub/Sub push
    request (HTTP, ``{"message": ..., "subscription": ...}``). Both store a
    malformed message and acknowledge it. A transient failure (Firestore
    unavailable, another delivery attempt firing, the trigger not sent) has
    already written its JSON log line; it is answered 503 with a short JSON
    body naming that checkpoint, so Pub/Sub delivers again, and no traceback
    is logged.
    """
    env = dict(os.environ if environ is None else environ)
    log = log or CheckpointLog(project=env.get("GOOGLE_CLOUD_PROJECT"))
    try:
        expectations = Expectations.load(path)
        transition = check_deployment(expectations, env)
    except (ExpectationsError, ColdStartFailed) as error:
        log.emit("COLD_START_FAILED", str(error), severity="CRITICAL",
                 transition=env.get("PHASEGATE_TRANSITION", ""), file=str(path))
        raise ColdStartFailed(str(error)) from None
    project = env.get("GOOGLE_CLOUD_PROJECT")
    built: list[Orchestrator] = []

    def orchestrator() -> Orchestrator:
        if not built:
            from google.cloud import firestore

            try:
                client = firestore.Client(project=project)
            except Exception as error:  # noqa: BLE001 - no credentials: one line, a retry
                reason = f"no Firestore client ({type(error).__name__}: " \
                         f"{' '.join(str(error).split())[:200]})"
                log.emit("STORE_UNAVAILABLE", reason, severity="ERROR", transition=transition)
                raise StoreUnavailable(reason) from None
            built.append(Orchestrator(transition, client, expectations=expectations,
                                      project=project, log=log))
        return built[0]

    def on_completion(cloud_event: Any) -> None:
        """One processor-completion message, delivered by Eventarc as a CloudEvent."""
        try:
            orchestrator().handle_push(cloud_event.data)
        except Exception as error:
            checkpoint = retryable_checkpoint(error)
            if checkpoint is None:
                raise
            raise Redeliver(checkpoint) from None
        finally:
            _settle(built)

    def on_push(request: Any) -> Answer:
        """One processor-completion message, delivered by a Pub/Sub push subscription."""
        if str(getattr(request, "method", "POST")).upper() != "POST":
            # a probe, a browser, a typo: never a delivery, never a stored rejection
            return ("405 Pub/Sub pushes completions with POST\n", 405,
                    {"Allow": "POST", "Content-Type": "text/plain"})
        try:
            orchestrator().handle_push(request.get_data(cache=False))
        except Exception as error:
            checkpoint = retryable_checkpoint(error)
            if checkpoint is None:
                raise
            return retry_body(checkpoint), RETRY_STATUS, JSON
        finally:
            _settle(built)
        return "", 204

    functions_framework.cloud_event(on_completion)  # registers the signature by name
    functions_framework.http(on_push)
    return on_completion, on_push
