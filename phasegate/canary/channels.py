"""Notification channels: Slack (Block Kit), a generic JSON webhook, and the log.

Message building is pure; sending goes through :func:`post_json`, which
retries 5xx answers and honours 429 Retry-After. Webhook URLs come from the
environment variables the registry names, never from the registry itself.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from phasegate.canary.incidents import Notification

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 3000
MAX_RETRY_AFTER = 60.0


class DeliveryFailed(Exception):
    """A channel could not take the message; it stays pending for the next run."""


@dataclass
class Channel:
    name: str  # slack | webhook | log (with the env variable: slack:SLACK_WEBHOOK_URL)
    kind: str
    url_env: str | None = None

    def url(self) -> str:
        url = os.environ.get(self.url_env or "", "")
        if not url:
            raise DeliveryFailed(f"environment variable {self.url_env} is not set; {self.kind} "
                                 "notifications cannot be sent")
        return url


def channels_from(settings: Sequence[dict[str, Any]]) -> list[Channel]:
    found = []
    for entry in settings:
        for kind, options in entry.items():
            env = (options or {}).get("url_env")
            found.append(Channel(f"{kind}:{env}" if env else kind, kind, env))
    return found


def post_json(url: str, body: Any, *, attempts: int = 3, timeout: float = 10.0,
              sleep: Callable[[float], None] = time.sleep) -> None:
    """POST JSON; retry 5xx and network errors with backoff, honour 429 Retry-After."""
    data = json.dumps(body).encode("utf-8")
    last_error = "no attempt"
    for attempt in range(attempts):
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last_error = f"HTTP {error.code}"
            if error.code == 429:
                retry_after = _retry_after(error.headers.get("Retry-After"))
                if attempt + 1 < attempts:
                    sleep(retry_after)
                continue
            if error.code < 500:
                raise DeliveryFailed(f"{last_error}: the endpoint refused the message") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            last_error = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        if attempt + 1 < attempts:
            sleep(min(2.0 ** attempt, 8.0))
    raise DeliveryFailed(f"{last_error} after {attempts} attempts")


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


# -- Slack ---------------------------------------------------------------------

_TITLES = {"open": ":rotating_light: New", "renotify": ":hourglass: Still open",
           "resolve": ":white_check_mark: Resolved"}


def slack_messages(notifications: Sequence[Notification], pipeline: str) -> list[dict[str, Any]]:
    """Block Kit messages: each incident its own section, grouped new / ongoing / resolved.

    Split so that no message holds more than 50 blocks, and no section more
    than 3,000 characters.
    """
    blocks: list[dict[str, Any]] = []
    for kind in ("open", "renotify", "resolve"):
        group = [n for n in notifications if n.kind == kind]
        if not group:
            continue
        blocks.append({"type": "header", "text": {"type": "plain_text", "emoji": True,
                                                  "text": f"{_TITLES[kind]} ({len(group)})"}})
        for note in group:
            blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                       "text": _section_text(note)}})
        blocks.append({"type": "divider"})
    messages = []
    for start in range(0, len(blocks), SLACK_MAX_BLOCKS):
        chunk = blocks[start:start + SLACK_MAX_BLOCKS]
        messages.append({"text": f"phasegate: {pipeline}: {len(notifications)} incident "
                                 "update(s)", "blocks": chunk})
    return messages


def _section_text(note: Notification) -> str:
    lines = [f"*{note.state}* `{note.transition}` run key *{note.run_key}*", note.detail]
    for missing in note.missing:
        item = missing if isinstance(missing, dict) else vars(missing)
        last = item.get("last_reported") or "not within the lookback"
        lines.append(f"• `{item['name']}`: {item['status']}; last reported {last}")
    text = "\n".join(line for line in lines if line)
    if len(text) > SLACK_MAX_SECTION:
        text = text[: SLACK_MAX_SECTION - 1] + "…"
    return text


def send(channel: Channel, notifications: Sequence[Notification], pipeline: str,
         stream: TextIO | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
    """Deliver to one channel; raises :class:`DeliveryFailed`."""
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
    url = channel.url()
    if channel.kind == "slack":
        for message in slack_messages(notifications, pipeline):
            post_json(url, message, sleep=sleep)
    elif channel.kind == "webhook":
        post_json(url, {"source": "phasegate", "pipeline": pipeline,
                        "notifications": [n.as_json() for n in notifications]}, sleep=sleep)
    else:
        raise DeliveryFailed(f"unknown channel kind {channel.kind!r}")
