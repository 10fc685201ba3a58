"""Notification channels: Slack (Block Kit), a generic JSON webhook, and the log.

Message building is pure; sending goes through :func:`post_json`, which
retries 5xx answers and connection failures and honours 429 Retry-After.
Webhook URLs come from the environment variables the registry names, never
from the registry itself, and are treated as secrets:

- https only (http only to loopback: 127.0.0.0/8, ::1, localhost, for tests);
  any other URL is a failed channel, never an exception;
- no redirect is followed: a 3xx answer is a failed delivery;
- every attempt is bounded as a whole (connect, send, and the whole answer:
  a server that drips one byte a second is cut off), and so is every run
  (:class:`Budget`);
- a URL is never shown whole: messages name its scheme and host only.

Text that comes from Firestore documents (processor names, unknown names,
incident details) is escaped for Slack's mrkdwn and sent with ``verbatim``,
so it can never form a mention or a link.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from phasegate.canary.incidents import Notification
from phasegate.urls import SecretUrl, UrlRefused, parse_secret_url

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 3000
MAX_RETRY_AFTER = 60.0

CONNECT_TIMEOUT = 5.0  # seconds to open the connection (TLS included)
READ_TIMEOUT = 10.0  # seconds any single read may wait
ATTEMPT_TIMEOUT = 15.0  # one attempt as a whole: connect, send, the whole answer
RUN_DEADLINE = 60.0  # every delivery of one canary run together



class DeliveryFailed(Exception):
    """A channel could not take the message; it stays pending for the next run."""


@dataclass
class Budget:
    """Time for one run's deliveries: each attempt bounded, and all of them together."""

    seconds: float = RUN_DEADLINE
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    attempt_timeout: float = ATTEMPT_TIMEOUT
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def remaining(self) -> float:
        return self.seconds - (self.clock() - self.started)


# -- URLs ------------------------------------------------------------------------

Target = SecretUrl  # a notification URL that passed the rules (phasegate.urls)


def parse_url(raw: str, where: str = "the URL") -> Target:
    """The target of a notification URL, or :class:`DeliveryFailed` saying why not.

    Messages never hold more of the URL than its scheme and host.
    """
    try:
        return parse_secret_url(raw, where)
    except UrlRefused as error:
        raise DeliveryFailed(str(error)) from None


def redact(raw: str) -> str:
    """A URL as it may be shown: scheme and host only."""
    try:
        return parse_url(raw).shown
    except DeliveryFailed:
        return "<a URL that is not valid>"


@dataclass
class Channel:
    name: str  # the kind, with the env variable: slack:SLACK_WEBHOOK_URL
    kind: str  # slack, webhook, log; anything else (a malformed entry) fails when used
    url_env: str | None = None

    def url(self) -> str:
        url = os.environ.get(self.url_env or "", "") if self.url_env else ""
        if not url:
            raise DeliveryFailed(f"environment variable {self.url_env} is not set; {self.kind} "
                                 "notifications cannot be sent")
        return url

    def target(self) -> Target:
        return parse_url(self.url(), f"the URL in {self.url_env}")


def channels_from(settings: Any) -> list[Channel]:
    """Channels from ``canary.notify``; an entry phasegate cannot use becomes a failing channel."""
    found = []
    for index, entry in enumerate(settings if isinstance(settings, list | tuple) else ()):
        if not isinstance(entry, Mapping) or not entry:
            found.append(Channel(f"notify[{index}]", "malformed"))
            continue
        for kind, options in entry.items():
            env = options.get("url_env") if isinstance(options, Mapping) else None
            env = env if isinstance(env, str) and env else None
            kind = kind if isinstance(kind, str) else "malformed"
            found.append(Channel(f"{kind}:{env}" if env else kind, kind, env))
    return found


# -- HTTP ------------------------------------------------------------------------

class _AttemptFailed(Exception):
    """One attempt failed; the message is safe to show. ``final``: do not retry."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


def post_json(url: str | Target, body: Any, *, attempts: int = 3, budget: Budget | None = None,
              sleep: Callable[[float], None] = time.sleep) -> None:
    """POST JSON; retry 5xx and connection failures with backoff, honour 429 Retry-After.

    Never follows a redirect; never waits past the attempt bound or the run's
    budget (a timeout is not retried: a server that is slow once is slow
    again); raises :class:`DeliveryFailed` with a message that shows the
    URL's scheme and host only.
    """
    target = url if isinstance(url, Target) else parse_url(url)
    budget = budget or Budget()
    data = json.dumps(body).encode("utf-8")
    last = "no attempt"
    for attempt in range(attempts):
        if budget.remaining() <= 0:
            raise DeliveryFailed(f"{target.shown}: the run's delivery deadline "
                                 f"({budget.seconds:g} s) has passed ({last})")
        wait = min(2.0 ** attempt, 8.0)
        try:
            status, retry_after = _attempt(target, data, budget)
        except _AttemptFailed as error:
            last = f"{target.shown}: {error}"
            if error.final:
                raise DeliveryFailed(f"{last}; not retried") from None
        else:
            if 200 <= status < 300:
                return
            last = f"{target.shown}: HTTP {status}"
            if 300 <= status < 400:
                raise DeliveryFailed(f"{last}: redirects are not followed (is the URL "
                                     "current?)")
            if status == 429:
                wait = _retry_after(retry_after)
            elif status < 500:
                raise DeliveryFailed(f"{last}: the endpoint refused the message")
        if attempt + 1 < attempts:
            if wait >= budget.remaining():
                raise DeliveryFailed(f"{last}; no time left to retry within the run's "
                                     f"delivery deadline ({budget.seconds:g} s)")
            sleep(wait)
    raise DeliveryFailed(f"{last} after {attempts} attempts")


def _attempt(target: Target, data: bytes, budget: Budget) -> tuple[int, str | None]:
    """One POST, bounded as a whole: a worker does it; past the bound its socket is shut.

    Per-read timeouts alone cannot stop a server that sends one byte a second;
    the bound covers the connection, the request and the whole answer.
    """
    bound = min(budget.attempt_timeout, budget.remaining())
    connection = _connection(target, max(min(budget.connect_timeout, bound), 0.001))
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    abandoned = threading.Event()

    def work() -> None:
        try:
            connection.connect()
            if abandoned.is_set():
                return
            if connection.sock is not None:
                connection.sock.settimeout(budget.read_timeout)
            connection.request("POST", target.request_path, body=data, headers={
                "Content-Type": "application/json", "User-Agent": "phasegate-canary"})
            response = connection.getresponse()  # the status line and headers: all we need
            outcome["status"] = response.status
            outcome["retry_after"] = response.getheader("Retry-After")
        except Exception as error:  # noqa: BLE001 - reported by the caller, safely
            outcome["error"] = error
        finally:
            connection.close()
            finished.set()

    worker = threading.Thread(target=work, name="phasegate-notify", daemon=True)
    worker.start()
    if not finished.wait(max(bound, 0.0)):
        abandoned.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # the raw socket's shutdown, not TLS's:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes the worker at once
        worker.join(1.0)
        raise _AttemptFailed(f"no complete answer within {bound:.3g} s (too slow)", final=True)
    error = outcome.get("error")
    if error is not None:
        raise _AttemptFailed(_describe(error, target), final=isinstance(error, TimeoutError))
    return int(outcome["status"]), outcome.get("retry_after")


def _connection(target: Target, timeout: float) -> Any:
    """An unopened connection; https may go through the environment's HTTPS proxy."""
    import http.client
    import ssl

    if target.scheme == "http":  # loopback only: never through a proxy
        return http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    context = ssl.create_default_context()
    proxy = urllib.request.getproxies().get("https")
    if proxy and not urllib.request.proxy_bypass(target.host):
        split = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        try:
            proxy_host, proxy_port = split.hostname, split.port
        except ValueError:
            proxy_host = None
        if not proxy_host:
            raise DeliveryFailed("the HTTPS proxy in the environment is not a valid URL")
        headers = {}
        if split.username is not None:
            credentials = f"{urllib.parse.unquote(split.username)}:" \
                          f"{urllib.parse.unquote(split.password or '')}"
            headers["Proxy-Authorization"] = "Basic " + base64.b64encode(
                credentials.encode()).decode()
        connection = http.client.HTTPSConnection(proxy_host, proxy_port or 80, timeout=timeout,
                                                 context=context)
        connection.set_tunnel(target.host, target.port, headers=headers)
        return connection
    return http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                       context=context)


def _describe(error: BaseException, target: Target) -> str:
    """An error as one line that cannot hold the URL's secret part."""
    if isinstance(error, TimeoutError):
        text = "timed out"
    elif isinstance(error, OSError) and error.strerror:
        text = error.strerror
    elif isinstance(error, OSError):
        text = str(error)
    else:
        text = ""  # http.client's own errors may quote what they were given: name only
    text = scrub(text, target)
    name = type(error).__name__
    return f"{name}: {text}" if text else name


def scrub(text: str, target: Target | None = None) -> str:
    """One short line, without the secret part of a URL."""
    if target is not None:
        for secret in sorted({target.request_path, target.request_path.split("?")[0],
                              target.request_path.lstrip("/")} - {"", "/"}, key=len,
                             reverse=True):
            text = text.replace(secret, "/…")
    text = re.sub(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>.,;:)]",
                  lambda match: redact(match.group(0)), text)
    text = " ".join(text.split())
    return text[:300]


def _retry_after(value: str | None) -> float:
    try:
        seconds = float(value or 1)
    except ValueError:
        return 1.0
    if seconds != seconds:  # NaN
        return 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


# -- Slack ---------------------------------------------------------------------

_TITLES = {"open": ":rotating_light: New", "renotify": ":hourglass: Still open",
           "resolve": ":white_check_mark: Resolved"}


def slack_escape(text: Any) -> str:
    """Text for Slack mrkdwn that can never form a mention, a channel ping or a link."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_messages(notifications: Sequence[Notification], pipeline: str) -> list[dict[str, Any]]:
    """Block Kit messages: each incident its own section, grouped new / ongoing / resolved.

    Split so that no message holds more than 50 blocks, and no section more
    than 3,000 characters. Every text that comes from a document is escaped,
    and sections are ``verbatim`` (no automatic links or mentions).
    """
    blocks: list[dict[str, Any]] = []
    for kind in ("open", "renotify", "resolve"):
        group = [n for n in notifications if n.kind == kind]
        if not group:
            continue
        blocks.append({"type": "header", "text": {"type": "plain_text", "emoji": True,
                                                  "text": f"{_TITLES[kind]} ({len(group)})"}})
        for note in group:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "verbatim": True,
                                                       "text": _section_text(note)}})
        blocks.append({"type": "divider"})
    messages = []
    for start in range(0, len(blocks), SLACK_MAX_BLOCKS):
        chunk = blocks[start:start + SLACK_MAX_BLOCKS]
        messages.append({"text": f"phasegate: {slack_escape(pipeline)}: {len(notifications)} "
                                 "incident update(s)", "blocks": chunk})
    return messages


def _section_text(note: Notification) -> str:
    e = slack_escape
    lines = [f"*{e(note.state)}* `{e(note.transition)}` run key *{e(note.run_key)}*",
             e(note.detail)]
    for missing in note.missing:
        item = missing if isinstance(missing, Mapping) else vars(missing)
        last = item.get("last_reported") or "not within the lookback"
        lines.append(f"• `{e(item.get('name'))}`: {e(item.get('status'))}; last reported "
                     f"{e(last)}")
    text = "\n".join(line for line in lines if line)
    if len(text) > SLACK_MAX_SECTION:
        text = re.sub(r"&[a-z]{0,3}$", "", text[: SLACK_MAX_SECTION - 1]) + "…"
    return text


def send(channel: Channel, notifications: Sequence[Notification], pipeline: str,
         stream: TextIO | None = None, sleep: Callable[[float], None] = time.sleep,
         budget: Budget | None = None) -> None:
    """Deliver to one channel; raises :class:`DeliveryFailed`, and nothing else."""
    if not notifications:
        return
    if channel.kind == "log":
        out = stream or sys.stdout
        for note in notifications:
            severity = "INFO" if note.kind == "resolve" else "WARNING"
            out.write(json.dumps({"severity": severity, "message":
                                  f"{note.kind.upper()} {note.dedup_key}: {note.detail}",
                                  "notification": note.as_json(),
                                  "logging.googleapis.com/labels": {
                                      "phasegate_transition": note.transition,
                                      "phasegate_run_key": note.run_key,
                                      "phasegate_state": note.state}}, default=str) + "\n")
        out.flush()
        return
    if channel.kind not in ("slack", "webhook"):
        raise DeliveryFailed(f"unknown or malformed channel {channel.name!r} in canary.notify")
    target = channel.target()
    budget = budget or Budget()
    try:
        if channel.kind == "slack":
            for message in slack_messages(notifications, pipeline):
                post_json(target, message, sleep=sleep, budget=budget)
        else:
            post_json(target, {"source": "phasegate", "pipeline": pipeline,
                               "notifications": [n.as_json() for n in notifications]},
                      sleep=sleep, budget=budget)
    except DeliveryFailed:
        raise
    except Exception as error:  # noqa: BLE001 - a channel fails; it never breaks the run
        raise DeliveryFailed(f"{target.shown}: {_describe(error, target)}") from None
