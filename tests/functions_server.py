"""A deployable function served by the real functions-framework, on a free loopback port."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from phasegate.scenario.emulators import free_port


@contextmanager
def serve(source: Path, target: str, signature: str, env: dict[str, str], log: Path,
          python: str = sys.executable, cwd: Path | None = None) -> Iterator[str]:
    """Run ``functions-framework --source SOURCE --target TARGET``; yield its base URL.

    Ready means the port answers ``/robots.txt``, which functions-framework serves
    itself: probing ``/`` would call the function (slow when Firestore is not
    there, and a delivery the test did not ask for). A server that exits first
    fails with its log.
    """
    port = free_port()
    command = [python, "-m", "functions_framework", "--source", str(source), "--target", target,
               "--signature-type", signature, "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env,
                                   cwd=cwd or source.parent, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"functions-framework exited: {log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{url}/robots.txt", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answered
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no answer on {url}: {log.read_text()[-3000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    from phasegate.scenario.emulators import stop_group

    if process.poll() is None:
        stop_group(process)


def push_body(payload: dict[str, Any], message_id: str) -> bytes:
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return json.dumps({"message": {"data": data, "messageId": message_id},
                       "subscription": "projects/p/subscriptions/s"}).encode()


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def post_binary_cloud_event(url: str, body: bytes, event_id: str) -> int:
    """An Eventarc-style Pub/Sub CloudEvent in binary content mode (ce-* headers)."""
    return post(url, body, {
        "ce-id": event_id, "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": "//pubsub.googleapis.com/projects/p/topics/completions",
        "ce-time": "2026-02-10T04:00:00Z"})


def emulator_env(project: str, **extra: str) -> dict[str, str]:
    """The environment a served function needs: the emulators, and no metadata server."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PHASEGATE_", "GOOGLE_APPLICATION_CREDENTIALS"))}
    env.update({"GOOGLE_CLOUD_PROJECT": project, "NO_GCE_CHECK": "True", **extra})
    return env
