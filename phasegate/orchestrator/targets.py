"""How one firing leaves the orchestrator: a Pub/Sub message or an HTTP POST.

A *sender* (:data:`Send`) takes one :class:`Outgoing` message and returns a
short id of what was sent, or raises :class:`TargetFailed`. A failure leaves
the firing pending: the caller releases its claim and lets Pub/Sub deliver
again, and the retry sends the same ``trigger_id`` (at least once; the
downstream drops duplicates by that id). So a sender makes one attempt and
never retries by itself: the retry belongs to Pub/Sub, within its backoff.

HTTP targets treat their URL as a secret, with the notification channels'
rules (``phasegate.canary.channels``):

- the URL comes from the environment variable the registry names;
- https only (plain http only to loopback: 127.0.0.0/8, ::1, localhost, for
  tests), no ``user:password@``, no spaces, control or non-ASCII characters;
  anything else is refused before any connection is opened;
- no redirect is followed: a 3xx answer is a failure;
- the whole exchange (connect, send, the status line and headers, and the
  excerpt of a failure's body) is bounded by ``timeout_seconds``;
- a URL is never shown whole (scheme and host only), and neither the URL's
  path and query nor the ID token ever appear in a message or an exception.

Standard library only, apart from google-auth for the default ID token
provider, imported when a token is first needed (the ``gcp`` extra).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import re
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from phasegate.runtime import printable
from phasegate.urls import SecretUrl, UrlRefused, is_loopback, parse_secret_url

DEFAULT_TIMEOUT_S = 10.0  # when the spec names no timeout_seconds
MAX_REASON = 200  # characters of a failed answer's body shown in the failure
MAX_BODY_READ = 4096  # bytes of a failed answer's body read at most
USER_AGENT = "phasegate-orchestrator"

Publish = Callable[[str, bytes, dict[str, str]], str]  # topic id, data, attributes -> id
TokenProvider = Callable[[str], str]  # audience -> OIDC ID token


class TargetFailed(Exception):
    """The firing could not be sent: it stays pending, and the redelivery sends it again.

    ``status`` is the HTTP status when the target answered (None otherwise).
    The message is safe to log: it never holds a URL's path or query, nor a token.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Outgoing:
    """One firing message, the same for every kind of target.

    ``attributes`` always carries ``trigger_id`` (equal to :attr:`trigger_id`)
    and ``transition``: they are what lets the downstream drop a duplicate,
    whatever the body template made of the body.
    """

    trigger_id: str  # "<transition>/<run_key>", or ".../<processor>" with each: completed
    body: Any  # JSON-able
    attributes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        attributes = dict(self.attributes)  # a copy: the message cannot change once built
        if attributes.get("trigger_id") != self.trigger_id:
            raise ValueError(f"Outgoing {self.trigger_id!r}: attributes must carry the same "
                             "trigger_id")
        if not attributes.get("transition"):
            raise ValueError(f"Outgoing {self.trigger_id!r}: attributes must carry transition")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
            raise ValueError(f"Outgoing {self.trigger_id!r}: attribute names and values are "
                             "strings")
        object.__setattr__(self, "attributes", attributes)


Send = Callable[[Outgoing], str]  # what was sent, as a short id: a message id or "http 204"


MAX_BODY_BYTES = 9_000_000  # under Pub/Sub's 10 MB request limit, attributes included


def encode_body(body: Any) -> bytes:
    """Compact, key-sorted JSON in UTF-8: the same bytes for the same firing, every time.

    Raises :class:`TargetFailed` for a body that is not JSON (a NaN, a set,
    a lone surrogate): the template that built it must be fixed.
    """
    try:
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError) as error:
        raise TargetFailed(f"the firing's body is not JSON ({type(error).__name__}: "
                           f"{printable(str(error))[:MAX_REASON]})") from None


# -- Pub/Sub -------------------------------------------------------------------------

def pubsub_sender(topic: str, publish: Publish) -> Send:
    """A sender that publishes to ``topic``: JSON body as data, attributes as attributes.

    ``publish`` is the Pub/Sub client call (topic id, data, attributes ->
    message id); any exception it raises becomes :class:`TargetFailed`.
    """

    def send(message: Outgoing) -> str:
        data = encode_body(message.body)
        if len(data) > MAX_BODY_BYTES:
            raise TargetFailed(f"the message for {message.trigger_id} is {len(data):,} bytes, "
                               f"more than {MAX_BODY_BYTES:,}: Pub/Sub refuses it; shorten the "
                               "target's message template")
        try:
            return str(publish(topic, data, dict(message.attributes)))
        except Exception as error:
            reason = printable(f"{type(error).__name__}: {error}")[:500]
            raise TargetFailed(f"publishing {message.trigger_id} to topic {topic} failed "
                               f"({reason})") from error

    return send


# -- URLs ----------------------------------------------------------------------------

Endpoint = SecretUrl  # an HTTP target's URL that passed the rules (phasegate.urls)


def parse_endpoint(raw: str, where: str) -> Endpoint:
    """The endpoint of a target URL, or :class:`TargetFailed` saying why not.

    ``where`` names the URL's origin (the environment variable); messages hold
    no more of the URL than its scheme and host.
    """
    try:
        return parse_secret_url(raw, where)
    except UrlRefused as error:
        raise TargetFailed(str(error)) from None


# -- HTTP ----------------------------------------------------------------------------

@dataclass(frozen=True)
class HttpRequest:
    """One POST to make: where, and what, already checked."""

    endpoint: Endpoint
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class HttpAnswer:
    """A status, and the start of the body when the status is not 2xx."""

    status: int
    body: bytes = b""


Opener = Callable[[HttpRequest, float], HttpAnswer]  # request, timeout in seconds -> answer


def http_exchange(request: HttpRequest, timeout: float) -> HttpAnswer:
    """POST once, bounded as a whole by ``timeout``; never follows a redirect.

    A per-read timeout alone cannot stop a server that sends one byte a
    second, so a timer shuts the socket down at the deadline, which wakes the
    blocked read at once. A 2xx status is returned even if the deadline passes
    just after it arrives (the firing was delivered). Raises
    :class:`TimeoutError` past the deadline without a status, and
    :class:`OSError` or :class:`http.client.HTTPException` for other failures.
    """
    endpoint = request.endpoint
    connection: http.client.HTTPConnection
    if endpoint.scheme == "https":
        connection = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout)
    expired = threading.Event()

    def expire() -> None:
        expired.set()  # before reading sock: a connect that ends now sees it
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # the raw socket's shutdown, not TLS's
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        connection.connect()
        if expired.is_set():
            raise TimeoutError
        connection.request("POST", endpoint.request_path, body=request.body,
                           headers=dict(request.headers))
        response = connection.getresponse()
        status = response.status
        if 200 <= status < 300:
            return HttpAnswer(status)  # delivered, whatever the clock says now: never resent
        try:
            body = response.read(MAX_BODY_READ)
        except (OSError, http.client.HTTPException):
            body = b""  # the status is the answer; the body's excerpt is a courtesy
        return HttpAnswer(status, body)
    except (OSError, http.client.HTTPException):
        if expired.is_set():
            raise TimeoutError(f"no complete answer within {timeout:g} s") from None
        raise
    finally:
        timer.cancel()
        connection.close()


def default_token_provider(audience: str) -> str:
    """An OIDC ID token for ``audience`` from the environment's Google credentials.

    A service account key file named by GOOGLE_APPLICATION_CREDENTIALS, else
    the metadata server (Cloud Functions, Cloud Run). Raises
    :class:`TargetFailed` when there are none, or google-auth is missing.
    """
    try:
        import google.auth.exceptions
        import google.auth.transport.requests
        import google.oauth2.id_token
    except ImportError:
        raise TargetFailed("an HTTP target with an audience needs google-auth (install "
                           "phasegate[gcp]) to sign an ID token") from None
    try:
        token = google.oauth2.id_token.fetch_id_token(  # type: ignore[no-untyped-call]
            google.auth.transport.requests.Request(), audience)
    except google.auth.exceptions.DefaultCredentialsError as error:
        raise TargetFailed(f"no Google credentials to sign an ID token with "
                           f"({_safe_text(str(error), ())})") from None
    except google.auth.exceptions.GoogleAuthError as error:
        raise TargetFailed(f"fetching an ID token failed ({type(error).__name__}: "
                           f"{_safe_text(str(error), ())})") from None
    return str(token)


def http_sender(spec: Mapping[str, Any], environ: Mapping[str, str], *,
                token_provider: TokenProvider | None = None,
                opener: Opener | None = None) -> Send:
    """A sender that POSTs the firing's JSON to the URL in ``environ[spec["url_env"]]``.

    ``spec``: ``{"kind": "http", "url_env": NAME, "audience_env": NAME or None,
    "timeout_seconds": float}``. With ``audience_env``, an OIDC ID token for
    that audience goes in ``Authorization: Bearer``. The spec and the
    environment are read at each send, and every problem (a missing variable,
    a URL the rules refuse, no credentials) is a :class:`TargetFailed` then,
    so that the firing stays pending and its log line says why; a sender is
    built without raising. ``opener`` replaces the network for tests.
    """
    provider = token_provider or default_token_provider
    exchange = opener or http_exchange

    def send(message: Outgoing) -> str:
        kind = spec.get("kind", "http")
        if kind != "http":
            raise TargetFailed(f"target kind {printable(str(kind))!r} is not http")
        timeout = _timeout(spec.get("timeout_seconds", DEFAULT_TIMEOUT_S))
        url_env = _env_name(spec.get("url_env"), "url_env")
        endpoint = parse_endpoint(_variable(environ, url_env, "the target URL"),
                                  f"the URL in {url_env}")
        body = encode_body(message.body)
        headers = _headers(message)
        secrets: list[str] = []
        audience_env = spec.get("audience_env")
        if audience_env is not None and not (token_provider is None
                                             and is_loopback(endpoint.host)):
            # a loopback URL is a local test: no Google credentials to sign a token with
            audience_env = _env_name(audience_env, "audience_env")
            audience = _variable(environ, audience_env, "the ID token audience").strip()
            token = _token(provider, audience, audience_env, endpoint)
            secrets.append(token)
            headers["Authorization"] = f"Bearer {token}"
        where = f"POST {message.trigger_id} to {endpoint.shown}"
        try:
            answer = exchange(HttpRequest(endpoint, headers, body), timeout)
        except TargetFailed:
            raise
        except Exception as error:
            raise TargetFailed(f"{where}: {_describe(error, endpoint, secrets)}") from None
        status = answer.status
        if 200 <= status < 300:
            return f"http {status}"
        # the answer's body is not quoted: a target may echo any part of the secret URL,
        # and this text goes to logs, the document and the canary's alerts
        raise TargetFailed(f"{where}: HTTP {status} ({_why(status)})", status=status)

    return send


def _why(status: int) -> str:
    if 300 <= status < 400:
        return "redirects are not followed; is the URL current?"
    if status in (401, 403):
        return ("refused: is the audience right, and may the function's service account "
                "invoke the target (roles/run.invoker)?")
    if status < 500:
        return "the target refused the firing"
    return "the target failed"


def _timeout(value: Any) -> float:
    """``timeout_seconds`` as a finite positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value <= 0:
        raise TargetFailed(f"timeout_seconds must be a positive number of seconds, not "
                           f"{printable(repr(value))[:50]}")
    return float(value)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: Any, key: str) -> str:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise TargetFailed(f"the target's {key} must name an environment variable")
    return value


def _variable(environ: Mapping[str, str], name: str, what: str) -> str:
    """The variable's value; a failure names the variable, never a value."""
    value = environ.get(name, "")
    if not value.strip():
        raise TargetFailed(f"environment variable {name} ({what}) is not set")
    return value


def _token(provider: TokenProvider, audience: str, audience_env: str,
           endpoint: Endpoint) -> str:
    """A token the provider gave that fits in a header; failures never quote a token."""
    try:
        token = provider(audience)
    except TargetFailed:
        raise
    except Exception as error:
        raise TargetFailed(f"no ID token for the audience in {audience_env} "
                           f"({_describe(error, endpoint, [audience])})") from None
    if not isinstance(token, str) or not token or not token.isascii() \
            or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise TargetFailed(f"the ID token for the audience in {audience_env} is empty or not "
                           "a header-safe string")
    return token


_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_HEADER_VALUE_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def _headers(message: Outgoing) -> dict[str, str]:
    """Content type, and every attribute as ``Phasegate-<Name>`` (trigger_id always).

    An attribute whose name is not a header token is left out. Values are
    percent-encoded (UTF-8), which changes only ``%``, control and non-ASCII
    characters: no value can inject a header.
    """
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    for name, value in message.attributes.items():
        if _HEADER_NAME.fullmatch(name):
            headers[header_name(name)] = _header_value(value)
    headers["Phasegate-Trigger-Id"] = _header_value(message.trigger_id)  # whatever else maps here
    return headers


def _header_value(value: str) -> str:
    return urllib.parse.quote(value, safe=_HEADER_VALUE_SAFE)


def header_name(attribute: str) -> str:
    """``trigger_id`` -> ``Phasegate-Trigger-Id``: an attribute's HTTP header."""
    parts = [part for part in re.split(r"[_-]", attribute) if part]
    return "-".join(["Phasegate", *(part.capitalize() for part in parts)])


def _path_secrets(endpoint: Endpoint) -> list[str]:
    """The URL's path and query, whole and in parts: any of them may be the secret."""
    path = endpoint.request_path
    parts = re.split(r"[/?&=]", path) + re.split(r"[/?&=]", urllib.parse.unquote(path))
    return [path, path.split("?")[0], path.lstrip("/"), urllib.parse.unquote(path),
            *(path.split("?", 1)[1:]), *(part for part in parts if len(part) >= 4)]


def _safe_text(text: str, secrets: Iterable[str]) -> str:
    """One short printable line, without the given secrets or any URL past its host."""
    for secret in sorted({s for s in secrets if s and s != "/"}, key=len, reverse=True):
        text = text.replace(secret, "…")
    text = re.sub(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*", _url_shown, text)
    text = printable(" ".join(text.split()))
    return text[:MAX_REASON] + ("…" if len(text) > MAX_REASON else "")


def _url_shown(match: re.Match[str]) -> str:
    try:
        return parse_endpoint(match.group(0), "a URL").shown
    except TargetFailed:
        return "<a URL>"


def _describe(error: BaseException, endpoint: Endpoint, secrets: list[str]) -> str:
    """An exception as one line that holds neither the URL's path nor a token."""
    if isinstance(error, TimeoutError):
        text = str(error) or "timed out"
    elif isinstance(error, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(error, socket.gaierror):
        text = f"the host name did not resolve ({error.strerror or error})"
    elif isinstance(error, OSError) and error.strerror:
        text = error.strerror
    elif isinstance(error, http.client.HTTPException):
        text = ""  # http.client's errors may quote what they were given: its name only
    else:
        text = str(error)
    text = _safe_text(text, [*secrets, *_path_secrets(endpoint)])
    name = type(error).__name__
    return f"{name}: {text}" if text else name
