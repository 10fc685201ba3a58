"""A local HTTP endpoint standing in for Slack or a webhook: records bodies, scripted answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Endpoint:
    def __init__(self) -> None:
        self.received: list[Any] = []  # every POST body, answered or not
        self.script: list[tuple[int, dict[str, str]]] = []  # answers, then 200
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, *statuses: int | tuple[int, dict[str, str]]) -> None:
        for status in statuses:
            self.script.append(status if isinstance(status, tuple) else (status, {}))

    def delivered(self) -> list[Any]:
        """Bodies that were answered 2xx."""
        return [body for body, status in self._log if 200 <= status < 300]

    _log: list[tuple[Any, int]]


@contextmanager
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint()
    state._log = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                status, headers = state.script.pop(0) if state.script else (200, {})
                state.received.append(body)
                state._log.append((body, status))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
