"""How a firing leaves the orchestrator: Pub/Sub and HTTP senders, against a real local server.

Nothing here reaches an address but loopback: every test runs with
NO_GCE_CHECK=True and a guard on ``socket.connect`` that fails the test on
any other address.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from phasegate.orchestrator.targets import (
    Endpoint,
    HttpAnswer,
    HttpRequest,
    Outgoing,
    TargetFailed,
    default_token_provider,
    header_name,
    http_sender,
    pubsub_sender,
)

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ0ZXN0In0.c2lnbmF0dXJlLXNlY3JldA"
SECRET_PATH = "hooks/SECRETPATH42"
SECRET_QUERY = "SECRETQUERY42"
SECRETS = ("SECRETPATH42", "SECRETQUERY42", "SECRETPW42", TOKEN)


def message(trigger_id: str = "phase4_to_phase5/2026-02-10", **extra: str) -> Outgoing:
    transition = trigger_id.split("/")[0]
    return Outgoing(trigger_id, {"game_date": "2026-02-10", "mode": "overnight",
                                 "trigger_id": trigger_id},
                    {"trigger_id": trigger_id, "transition": transition, **extra})


def loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return host in ("127.0.0.1", "::1", "localhost") or str(host).startswith("127.")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connect is recorded; one to any address but loopback fails the test."""
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        if not loopback(address):
            pytest.fail(f"a test tried to reach {address!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


# -- a recording server ------------------------------------------------------------

@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    drip: bool = False  # send the headers one byte at a time, slowly
    body_delay: float = 0.0  # headers at once, the body after this long
    echo: Callable[[BaseHTTPRequestHandler], bytes] | None = None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Server:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.answer = Answer()
        self.url = ""
        self.port = 0


@contextmanager
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            answer = state.answer
            try:
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.echo(self) if answer.echo else answer.body
                head = f"HTTP/1.1 {answer.status} X\r\nContent-Length: {len(payload)}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items()) + "\r\n"
                if answer.drip:
                    for byte in head.encode():
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.05)
                else:
                    self.wfile.write(head.encode())
                self.wfile.flush()
                time.sleep(answer.body_delay)
                self.wfile.write(payload)
                self.wfile.flush()
            except OSError:
                pass  # the client gave up: that is what some tests want

        do_POST = do_GET = _any  # noqa: N815 - the http.server API

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    state.url = f"http://127.0.0.1:{state.port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SPEC = {"kind": "http", "url_env": "TARGET_URL", "audience_env": "TARGET_AUDIENCE",
        "timeout_seconds": 2.0}


def sender(url: str, *, spec: dict[str, Any] | None = None, opener: Any = None,
           tokens: list[str] | None = None) -> Any:
    asked = tokens if tokens is not None else []

    def provider(audience: str) -> str:
        asked.append(audience)
        return TOKEN

    environ = {"TARGET_URL": url, "TARGET_AUDIENCE": "https://coordinator.example"}
    return http_sender(spec or SPEC, environ, token_provider=provider, opener=opener)


def shown(error: BaseException) -> str:
    """Everything a log of the failure could show: message, args and the printed chain."""
    return "".join(traceback.format_exception(error)) + repr(error.args)


class Recorder:
    """An opener that records, answering 204: proves what would have been sent, or nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[HttpRequest, float]] = []

    def __call__(self, request: HttpRequest, timeout: float) -> HttpAnswer:
        self.calls.append((request, timeout))
        return HttpAnswer(204)


# -- HTTP: the good path -----------------------------------------------------------

def test_one_post_with_body_trigger_id_and_bearer_token() -> None:
    tokens: list[str] = []
    with server() as srv:
        srv.answer = Answer(204)
        result = sender(f"{srv.url}/{SECRET_PATH}?k={SECRET_QUERY}", tokens=tokens)(message())
    assert result == "http 204"
    assert tokens == ["https://coordinator.example"]  # the audience, from its variable
    assert len(srv.requests) == 1
    got = srv.requests[0]
    assert (got.method, got.path) == ("POST", f"/{SECRET_PATH}?k={SECRET_QUERY}")
    assert got.body == (b'{"game_date":"2026-02-10","mode":"overnight",'
                        b'"trigger_id":"phase4_to_phase5/2026-02-10"}')
    assert got.headers["Phasegate-Trigger-Id"] == "phase4_to_phase5/2026-02-10"
    assert got.headers["Phasegate-Transition"] == "phase4_to_phase5"
    assert got.headers["Authorization"] == f"Bearer {TOKEN}"
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"


def test_without_audience_no_token_is_asked_for_or_sent() -> None:
    tokens: list[str] = []
    with server() as srv:
        result = sender(f"{srv.url}/hook", spec={**SPEC, "audience_env": None},
                        tokens=tokens)(message())
    assert result == "http 200"
    assert tokens == []
    assert "Authorization" not in srv.requests[0].headers


def test_attribute_values_cannot_inject_headers() -> None:
    with server() as srv:
        sender(f"{srv.url}/hook")(message(note="a\r\nX-Evil: 1", **{"bad name": "x"}))
    headers = srv.requests[0].headers
    assert "X-Evil" not in headers
    assert headers["Phasegate-Note"] == "a%0D%0AX-Evil: 1"
    assert not any("bad" in name.lower() for name in headers)


def test_no_attribute_can_forge_the_trigger_id_header() -> None:
    with server() as srv:
        sender(f"{srv.url}/hook")(message(**{"Trigger-Id": "forged", "TRIGGER_ID": "forged"}))
    assert srv.requests[0].headers["Phasegate-Trigger-Id"] == "phase4_to_phase5/2026-02-10"


def test_each_completed_trigger_id_is_the_header() -> None:
    with server() as srv:
        sender(f"{srv.url}/hook")(message("phase4_to_phase5/2026-02-10/ml_feature_store"))
    assert srv.requests[0].headers["Phasegate-Trigger-Id"] == \
        "phase4_to_phase5/2026-02-10/ml_feature_store"
    assert header_name("trigger_id") == "Phasegate-Trigger-Id"


# -- HTTP: failures leave the firing pending ------------------------------------------

def test_500_is_target_failed_with_status_and_never_the_answer_body() -> None:
    """A target may echo any part of its secret URL: its answer is never quoted."""
    with server() as srv:
        srv.answer = Answer(500, body=b"\x1b[31mboom\x1b[0m invalid code hook " + b"x" * 1000)
        with pytest.raises(TargetFailed) as caught:
            sender(f"{srv.url}/hook?code=Zk3s9SECRETq1")(message())
    assert caught.value.status == 500
    text = str(caught.value)
    assert text.endswith("HTTP 500 (the target failed)")
    assert "boom" not in text and "\x1b" not in text and "SECRET" not in text
    assert len(srv.requests) == 1  # one attempt: the retry is Pub/Sub's


def test_slow_server_times_out() -> None:
    with server() as srv:
        srv.answer = Answer(200, delay=1.5)
        started = time.monotonic()
        with pytest.raises(TargetFailed) as caught:
            sender(f"{srv.url}/hook", spec={**SPEC, "timeout_seconds": 0.2})(message())
        elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert caught.value.status is None
    assert "Timeout" in str(caught.value)


def test_a_dripping_server_is_cut_off_at_the_timeout_as_a_whole() -> None:
    # each byte comes within the per-read timeout; only a bound on the whole exchange stops it
    with server() as srv:
        srv.answer = Answer(200, headers={"X-Padding": "p" * 60}, drip=True)
        started = time.monotonic()
        with pytest.raises(TargetFailed):
            sender(f"{srv.url}/hook", spec={**SPEC, "timeout_seconds": 0.3})(message())
        elapsed = time.monotonic() - started
    assert elapsed < 1.5


def test_a_2xx_is_delivered_even_if_its_body_never_comes() -> None:
    # the status says the target took the firing: a timeout here would resend it
    with server() as srv:
        srv.answer = Answer(200, body=b"x" * 100, body_delay=1.5)
        started = time.monotonic()
        assert sender(f"{srv.url}/hook", spec={**SPEC, "timeout_seconds": 0.5})(message()) == \
            "http 200"
        assert time.monotonic() - started < 1.0


def test_a_failure_whose_body_stalls_keeps_its_status_within_the_timeout() -> None:
    with server() as srv:
        srv.answer = Answer(503, body=b"x" * 100, body_delay=1.5)
        started = time.monotonic()
        with pytest.raises(TargetFailed) as caught:
            sender(f"{srv.url}/hook", spec={**SPEC, "timeout_seconds": 0.3})(message())
        assert time.monotonic() - started < 1.2
    assert caught.value.status == 503


def test_redirect_is_a_failure_and_is_not_followed() -> None:
    with server() as elsewhere, server() as srv:
        srv.answer = Answer(302, headers={"Location": f"{elsewhere.url}/stolen"})
        with pytest.raises(TargetFailed) as caught:
            sender(f"{srv.url}/hook")(message())
        assert caught.value.status == 302
        assert "redirect" in str(caught.value)
        assert len(srv.requests) == 1
        assert elsewhere.requests == []


def test_connection_refused_is_target_failed(loopback_only: list[Any]) -> None:
    port = closed_port()
    with pytest.raises(TargetFailed) as caught:
        sender(f"http://127.0.0.1:{port}/{SECRET_PATH}")(message())
    assert "refused" in str(caught.value)
    assert caught.value.status is None
    assert any(address[1] == port for address in loopback_only)  # it did try


def test_4xx_for_permission_names_the_invoker_role() -> None:
    with server() as srv:
        srv.answer = Answer(403, body=b"Forbidden")
        with pytest.raises(TargetFailed) as caught:
            sender(f"{srv.url}/hook")(message())
    assert caught.value.status == 403
    assert "run.invoker" in str(caught.value)


# -- HTTP: URLs the rules refuse, before any connection ------------------------------

@pytest.mark.parametrize("url", [
    "http://example.com/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/computeMetadata/v1/",
    "http://127.0.0.1.nip.io/hook",
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "example.com/hook",
    "https://user:SECRETPW42@example.com/hook",
    "https://example.com/hook\x00",
    "https://exa mple.com/hook",
    "https://example.com%2FSECRETPATH42/x",
    "https://",
])
def test_refused_urls_never_connect(url: str, loopback_only: list[Any]) -> None:
    opener, tokens = Recorder(), []
    with pytest.raises(TargetFailed) as caught:
        sender(url, opener=opener, tokens=tokens)(message())
    assert opener.calls == []
    assert loopback_only == []
    assert tokens == []  # no token is fetched for a URL that will not be used
    assert "TARGET_URL" in str(caught.value)
    for secret in SECRETS:
        assert secret not in shown(caught.value)


def test_userinfo_is_refused_by_name_without_the_password() -> None:
    with pytest.raises(TargetFailed) as caught:
        sender("https://user:SECRETPW42@example.com/hook", opener=Recorder())(message())
    assert "user:password@" in str(caught.value)
    assert "https://example.com" in str(caught.value)


def test_plain_http_to_a_real_host_is_refused_even_by_the_real_opener(
        loopback_only: list[Any]) -> None:
    with pytest.raises(TargetFailed) as caught:
        sender("http://example.com/hook")(message())
    assert "plain http" in str(caught.value)
    assert loopback_only == []


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.com:8443/a/b?c=d#frag", Endpoint("https", "example.com", 8443, "/a/b?c=d")),
    ("https://example.com", Endpoint("https", "example.com", 443, "/")),
    ("http://localhost:8080/x", Endpoint("http", "localhost", 8080, "/x")),
    ("http://127.1.2.3/x", Endpoint("http", "127.1.2.3", 80, "/x")),
    ("http://[::1]:9/x", Endpoint("http", "::1", 9, "/x")),
    ("  https://example.com/x\n", Endpoint("https", "example.com", 443, "/x")),
])
def test_accepted_urls_reach_the_opener_with_the_spec_timeout(url: str,
                                                              expected: Endpoint) -> None:
    opener = Recorder()
    assert sender(url, spec={**SPEC, "timeout_seconds": 3}, opener=opener)(message()) == \
        "http 204"
    [(request, timeout)] = opener.calls
    assert request.endpoint == expected
    assert timeout == 3.0


# -- secrets never shown -------------------------------------------------------------

def _echo_path_and_auth(handler: BaseHTTPRequestHandler) -> bytes:
    return f"no route for {handler.path}, auth {handler.headers.get('Authorization')}".encode()


@pytest.mark.parametrize("case", ["500-echo", "404-echo", "302", "timeout", "refused"])
def test_the_url_path_query_and_token_never_appear_in_a_failure(case: str) -> None:
    with server() as srv:
        port = closed_port() if case == "refused" else srv.port
        srv.answer = {
            "500-echo": Answer(500, echo=_echo_path_and_auth),
            "404-echo": Answer(404, echo=_echo_path_and_auth),
            "302": Answer(302, headers={"Location": f"{srv.url}/{SECRET_PATH}"},
                          echo=_echo_path_and_auth),
            "timeout": Answer(200, delay=1.0),
            "refused": Answer(),
        }[case]
        url = f"http://127.0.0.1:{port}/{SECRET_PATH}?token={SECRET_QUERY}"
        with pytest.raises(TargetFailed) as caught:
            sender(url, spec={**SPEC, "timeout_seconds": 0.3})(message())
    text = shown(caught.value)
    for secret in SECRETS:
        assert secret not in text
    assert "http://127.0.0.1" in text  # scheme and host are shown


def test_a_redirect_target_is_never_shown() -> None:
    with server() as srv:
        srv.answer = Answer(302, headers={"Location": "https://login.example/o?state=SECRETQUERY42"},
                            body=b"Found. Redirecting to https://login.example/o?state=SECRETQUERY42")
        with pytest.raises(TargetFailed) as caught:
            sender(f"{srv.url}/hook")(message())
    assert "HTTP 302 (redirects are not followed" in str(caught.value)
    assert "login.example" not in shown(caught.value)


def test_an_opener_error_quoting_the_url_and_token_is_scrubbed() -> None:
    url = f"https://example.com/{SECRET_PATH}?token={SECRET_QUERY}"

    def opener(request: HttpRequest, timeout: float) -> HttpAnswer:
        raise RuntimeError(f"failed {url} with {request.headers['Authorization']}")

    with pytest.raises(TargetFailed) as caught:
        sender(url, opener=opener)(message())
    text = shown(caught.value)
    assert "RuntimeError" in text and "https://example.com" in text
    for secret in SECRETS:
        assert secret not in text


def test_a_token_provider_failure_is_target_failed_without_the_audience() -> None:
    def provider(audience: str) -> str:
        raise RuntimeError(f"cannot sign for {audience}")

    environ = {"TARGET_URL": "https://example.com/x", "TARGET_AUDIENCE": "https://aud.example/SECRETPATH42"}
    opener = Recorder()
    with pytest.raises(TargetFailed) as caught:
        http_sender(SPEC, environ, token_provider=provider, opener=opener)(message())
    assert "TARGET_AUDIENCE" in str(caught.value)
    assert "SECRETPATH42" not in shown(caught.value)
    assert opener.calls == []


@pytest.mark.parametrize("token", ["", "a b", "abc\r\nX-Evil: 1", None])
def test_an_unusable_token_is_refused_without_quoting_it(token: Any) -> None:
    environ = {"TARGET_URL": "https://example.com/x", "TARGET_AUDIENCE": "aud"}
    opener = Recorder()
    with pytest.raises(TargetFailed) as caught:
        http_sender(SPEC, environ, token_provider=lambda _: token, opener=opener)(message())
    assert "header-safe" in str(caught.value)
    if token:
        assert token not in shown(caught.value)
    assert opener.calls == []


# -- configuration -----------------------------------------------------------------

@pytest.mark.parametrize(("environ", "named"), [
    ({}, "TARGET_URL"),
    ({"TARGET_URL": "  "}, "TARGET_URL"),
    ({"TARGET_URL": "https://example.com/SECRETPATH42"}, "TARGET_AUDIENCE"),
])
def test_a_missing_variable_is_named_and_nothing_is_sent(environ: dict[str, str],
                                                         named: str) -> None:
    opener = Recorder()
    with pytest.raises(TargetFailed) as caught:
        http_sender(SPEC, environ, token_provider=lambda _: TOKEN, opener=opener)(message())
    assert f"environment variable {named}" in str(caught.value)
    assert "SECRETPATH42" not in shown(caught.value)
    assert opener.calls == []


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "5", True, None])
def test_a_bad_timeout_is_target_failed(timeout: Any) -> None:
    opener = Recorder()
    with pytest.raises(TargetFailed, match="timeout_seconds"):
        sender("https://example.com/x", spec={**SPEC, "timeout_seconds": timeout},
               opener=opener)(message())
    assert opener.calls == []


def test_the_default_timeout_applies_when_the_spec_names_none() -> None:
    opener = Recorder()
    spec = {k: v for k, v in SPEC.items() if k != "timeout_seconds"}
    sender("https://example.com/x", spec=spec, opener=opener)(message())
    assert opener.calls[0][1] == 10.0


def test_a_sender_is_built_without_raising_and_fails_when_used() -> None:
    send = http_sender({"kind": "http", "url_env": "not a name"}, {}, opener=Recorder())
    with pytest.raises(TargetFailed, match="url_env"):
        send(message())
    with pytest.raises(TargetFailed, match="not http"):
        http_sender({"kind": "pubsub"}, {}, opener=Recorder())(message())


def test_outgoing_requires_its_identity_in_the_attributes() -> None:
    with pytest.raises(ValueError, match="trigger_id"):
        Outgoing("t/2026-02-10", {}, {"transition": "t"})
    with pytest.raises(ValueError, match="trigger_id"):
        Outgoing("t/2026-02-10", {}, {"trigger_id": "t/2026-02-11", "transition": "t"})
    with pytest.raises(ValueError, match="transition"):
        Outgoing("t/2026-02-10", {}, {"trigger_id": "t/2026-02-10"})
    attributes = {"trigger_id": "t/2026-02-10", "transition": "t"}
    built = Outgoing("t/2026-02-10", {}, attributes)
    attributes["transition"] = "changed"
    assert built.attributes["transition"] == "t"  # its own copy


# -- the default token provider, without a network ------------------------------------

def test_default_token_provider_without_credentials_fails_clearly_and_offline(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any, loopback_only: list[Any]) -> None:
    pytest.importorskip("google.oauth2.id_token")
    pytest.importorskip("requests")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(TargetFailed) as caught:
        default_token_provider("https://coordinator.example")
    assert "credentials" in str(caught.value)
    assert loopback_only == []  # google-auth gave up before any connection


# -- Pub/Sub -----------------------------------------------------------------------

def test_pubsub_sender_publishes_compact_sorted_json_and_the_attributes() -> None:
    published: list[tuple[str, bytes, dict[str, str]]] = []

    def publish(topic: str, data: bytes, attributes: dict[str, str]) -> str:
        published.append((topic, data, attributes))
        return "1234567"

    out = Outgoing("p/2026-02-10", {"b": "é", "a": [1, 2]},
                   {"trigger_id": "p/2026-02-10", "transition": "p", "mode": "overnight"})
    assert pubsub_sender("nba-phase5-trigger", publish)(out) == "1234567"
    assert published == [("nba-phase5-trigger", '{"a":[1,2],"b":"é"}'.encode(),
                           {"trigger_id": "p/2026-02-10", "transition": "p",
                            "mode": "overnight"})]
    assert json.loads(published[0][1]) == {"a": [1, 2], "b": "é"}


def test_pubsub_publish_error_is_target_failed_naming_the_topic() -> None:
    def publish(topic: str, data: bytes, attributes: dict[str, str]) -> str:
        raise ConnectionError("503 unavailable")

    with pytest.raises(TargetFailed) as caught:
        pubsub_sender("nba-phase5-trigger", publish)(message())
    assert "nba-phase5-trigger" in str(caught.value)
    assert "503 unavailable" in str(caught.value)
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, ConnectionError)


def test_a_body_that_is_not_json_is_target_failed_and_nothing_is_published() -> None:
    published: list[Any] = []
    out = Outgoing("p/d", {"x": float("nan")}, {"trigger_id": "p/d", "transition": "p"})
    with pytest.raises(TargetFailed, match="not JSON"):
        pubsub_sender("t", lambda *args: published.append(args) or "1")(out)
    assert published == []


def test_a_loopback_url_gets_no_default_id_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local testing: the default provider would need Google credentials; loopback skips it."""
    import phasegate.orchestrator.targets as targets

    def no_credentials(audience: str) -> str:
        raise AssertionError("the default token provider was asked")

    monkeypatch.setattr(targets, "default_token_provider", no_credentials)
    with server() as srv:
        send = http_sender(SPEC, {"TARGET_URL": f"{srv.url}/hook",
                                  "TARGET_AUDIENCE": "https://coordinator.example"})
        assert send(message()).startswith("http 2")
    assert len(srv.requests) == 1 and "Authorization" not in srv.requests[0].headers


def test_a_message_pubsub_would_refuse_is_target_failed_before_publishing() -> None:
    published: list[bytes] = []
    send = pubsub_sender("go", lambda topic, data, attributes: published.append(data) or "1")
    big = Outgoing("t/2026-02-10", {"x": "y" * 9_500_000},
                   {"trigger_id": "t/2026-02-10", "transition": "t"})
    with pytest.raises(TargetFailed, match="Pub/Sub refuses it"):
        send(big)
    assert published == []
