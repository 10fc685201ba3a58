"""The official Firestore and Pub/Sub emulators as child processes on free loopback ports.

The Java servers are started directly (the gcloud wrapper scripts do not
exec Java, so killing the wrapper would leave the server running), each in
its own process group, and stopped with their whole group. Used by the
scenario runner and by the test fixtures.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FIRESTORE_MAIN = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"


def sdk_root() -> Path | None:
    """The Google Cloud SDK's root, found from ``gcloud`` on the PATH."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    return Path(os.path.realpath(gcloud)).parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    kind: str  # firestore | pubsub
    sdk: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        java = shutil.which("java") or "java"
        if self.kind == "firestore":
            folder = self.sdk / "platform" / "cloud-firestore-emulator"
            jar = folder / "cloud-firestore-emulator.jar"
            return [java, "-cp", str(jar), FIRESTORE_MAIN, "--host", "127.0.0.1",
                    "--port", str(self.port)]
        jars = sorted((self.sdk / "platform" / "pubsub-emulator" / "lib").glob("*.jar"))
        return [java, "-jar", str(jars[-1]), "--host=127.0.0.1", f"--port={self.port}"]

    def start(self, log_dir: Path) -> Emulator:
        self.log_path = log_dir / f"{self.kind}-{self.port}.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} emulator exited: {self._log_tail()}")
            try:
                with urllib.request.urlopen(f"http://{self.host}/", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.kind} emulator did not open {self.host}: {self._log_tail()}")

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-2000:]
        return ""

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
        self.process = None


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop an emulator's whole process group (its wrapper script does not exec Java)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def sdk_problem() -> str | None:
    """Why the emulators cannot start here, or None."""
    root = sdk_root()
    if root is None:
        return "the Google Cloud CLI (gcloud) is not installed"
    if shutil.which("java") is None:
        return "Java 17+ is not installed"
    if not (root / "platform" / "cloud-firestore-emulator").is_dir():
        return "the gcloud component cloud-firestore-emulator is not installed"
    if not (root / "platform" / "pubsub-emulator").is_dir():
        return "the gcloud component pubsub-emulator is not installed"
    return None


class EmulatorsUnavailable(RuntimeError):
    """The emulators cannot start here (no gcloud, no Java, a component missing, a crash)."""


@contextlib.contextmanager
def running_emulators(log_dir: Path | None = None) -> Iterator[dict[str, str]]:
    """Both emulators, their hosts exported as the Google clients expect, stopped afterwards.

    When ``FIRESTORE_EMULATOR_HOST`` and ``PUBSUB_EMULATOR_HOST`` are already set,
    those are used and nothing is started. Shared by ``phasegate test`` and the test
    suite; raises EmulatorsUnavailable with the reason when they cannot run.
    """
    variables = {"firestore": "FIRESTORE_EMULATOR_HOST", "pubsub": "PUBSUB_EMULATOR_HOST"}
    if all(os.environ.get(v) for v in variables.values()):
        yield {kind: os.environ[v] for kind, v in variables.items()}
        return
    problem = sdk_problem()
    if problem:
        raise EmulatorsUnavailable(problem)
    sdk = sdk_root()
    assert sdk is not None
    saved = {v: os.environ.get(v) for v in variables.values()}
    with contextlib.ExitStack() as stack:
        logs = log_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        hosts = {}
        for kind, variable in variables.items():
            emulator = Emulator(kind, sdk)
            stack.callback(emulator.stop)
            try:
                emulator.start(logs)
            except RuntimeError as error:
                raise EmulatorsUnavailable(str(error)) from error
            hosts[kind] = os.environ[variable] = emulator.host
        try:
            yield hosts
        finally:
            for variable, value in saved.items():
                if value is None:
                    os.environ.pop(variable, None)
                else:
                    os.environ[variable] = value


def bqemulator_problem() -> str | None:
    """Why bqemulator (PyPI; the BigQuery mirror's emulator) cannot start here, or None."""
    import importlib.util

    if importlib.util.find_spec("bqemulator") is None:
        return "bqemulator is not installed (pip install -e '.[dev,gcp]', or scripts/test)"
    if importlib.util.find_spec("google.cloud.bigquery") is None:
        return "google-cloud-bigquery is not installed (the gcp extra)"
    import duckdb

    version = duckdb.__version__
    spatial = (Path.home() / ".duckdb" / "extensions" / f"v{version}" / "linux_amd64"
               / "spatial.duckdb_extension")
    if not spatial.is_file():
        return (f"DuckDB's spatial extension is not at {spatial} (scripts/test copies it from "
                "duckdb-extension-spatial; offline, DuckDB cannot download it)")
    return None


@dataclass
class BigQueryEmulator:
    """bqemulator (REST on a free loopback port) in its own process group."""

    project: str = "phasegate-test"
    port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        import sys

        # the module, not a console script: that may live outside PATH (a venv that sees
        # the system's site-packages runs the system's package without its script)
        return [sys.executable, "-m", "bqemulator", "start",
                "--rest-host", "127.0.0.1", "--rest-port", str(self.port),
                "--grpc-host", "127.0.0.1", "--grpc-port", str(self.grpc_port),
                "--project", self.project, "--ephemeral", "--log-level", "warning"]

    def start(self, log_dir: Path, timeout: float = 60) -> BigQueryEmulator:
        self.log_path = log_dir / f"bqemulator-{self.port}.log"
        log = self.log_path.open("wb")
        env = {**os.environ, "NO_GCE_CHECK": "True"}
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, env=env)
        deadline = time.monotonic() + timeout
        url = f"http://{self.host}/bigquery/v2/projects/{self.project}/datasets"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bqemulator exited: {self._log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"bqemulator did not open {self.host}: {self._log_tail()}")

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-2000:]
        return ""

    def client(self, project: str | None = None) -> object:
        """A google-cloud-bigquery client of this emulator (anonymous credentials)."""
        from phasegate.mirror.sender import bigquery_client

        return bigquery_client(project or self.project,
                               {"BIGQUERY_EMULATOR_HOST": self.host})

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
        self.process = None
