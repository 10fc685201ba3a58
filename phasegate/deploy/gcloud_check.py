"""``deploy plan --check``: every gcloud command through gcloud's own parser, never deploying.

Each command runs in a sandbox with no credentials at all: a fresh, empty
``CLOUDSDK_CONFIG`` (no account), an environment built from an allowlist (so
``GOOGLE_APPLICATION_CREDENTIALS``, ``CLOUDSDK_AUTH_*`` and the like never get
in), the metadata-server probe off, and every endpoint gcloud might still
reach (metadata server, API endpoints, proxies) pointed at a closed loopback
port. gcloud parses its arguments before it looks for credentials, so:

- an authentication error ("You do not currently have an active account
  selected") means the command parsed, and nothing was sent;
- exit code 2 with ``unrecognized arguments``, ``Invalid choice`` or
  ``argument --flag: ...`` is an argument error: the plan is wrong;
- any other failure is gcloud refusing the command before authentication
  (an invalid project id, say): also a failure.

Some commands (``functions list``, every ``describe``) authenticate before they
compile their ``--filter`` and ``--format`` expressions, so a broken
expression would look parsed. Each such expression is therefore also compiled
by an offline list command (``gcloud config configurations list``), and the
command passes only when both runs do.

Measured with Google Cloud SDK 528: about 0.5 s per command, no socket opened
except to loopback. Starting gcloud is CPU-bound, so the commands run in
parallel, one per CPU.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from phasegate.deploy.steps import VARIABLE, Argv, PlanStep

Outcome = Literal["parsed", "argument-error", "rejected", "unchecked"]
FAILED: frozenset[Outcome] = frozenset({"argument-error", "rejected"})
CLOSED_PORT = "127.0.0.1:9"  # discard: nothing listens here, so a stray call fails at once
SAMPLES = {"PROJECT": "phasegate-check", "REGION": "us-central1",
           "PROJECT_NUMBER": "123456789012"}
SAMPLE_URL = "https://phasegate-check-sample-uc.a.run.app"
# Passed through from the caller's environment: none of them holds or selects a credential.
ALLOWED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CLOUDSDK_PYTHON", "SYSTEMROOT")
# Never passed, whatever the allowlist says (a test holds the allowlist to this).
CREDENTIALS = ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_OAUTH_ACCESS_TOKEN",
               "GOOGLE_CLOUD_PROJECT", "GOOGLE_API_KEY", "CLOUDSDK_CORE_ACCOUNT",
               "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
               "CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT", "CLOUDSDK_AUTH_ACCESS_TOKEN")
API_OVERRIDES = ("artifactregistry", "cloudbuild", "cloudfunctions", "cloudresourcemanager",
                 "cloudscheduler", "compute", "firestore", "iam", "logging", "monitoring",
                 "pubsub", "run", "secretmanager", "serviceusage", "storage")
AUTH_MARKERS = ("You do not currently have an active account selected", "gcloud auth login",
                "not logged in", "Reauthentication required", "credentials")
ARGUMENT_MARKERS = re.compile(r"unrecognized arguments|Invalid choice|"
                              r"ERROR: \(gcloud[^)]*\) argument ")


class GcloudUnavailable(Exception):
    """No gcloud whose parser can check the plan: the check could not run (not a pass)."""


class GcloudNotFound(GcloudUnavailable):
    """The Google Cloud CLI is not installed (or not at the path given)."""


class GcloudUnusable(GcloudUnavailable):
    """This gcloud did not reject a known-bad command: its verdicts would mean nothing."""


# Run with every check: if this ever "parses", gcloud no longer parses before it
# authenticates (or the sandbox broke), and a pass would be a false one.
CALIBRATION: Argv = ("gcloud", "pubsub", "topics", "create", "phasegate-calibration",
                     "--phasegate-no-such-flag", "--project=${PROJECT}")


@dataclass(frozen=True)
class CommandCheck:
    """What gcloud's parser said of one command of the plan."""

    description: str
    argv: Argv  # as in the plan, variables unexpanded
    outcome: Outcome
    message: str = ""  # gcloud's ERROR lines, or why it was not checked

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED


@dataclass(frozen=True)
class CheckResult:
    """Every command's outcome, in plan order, and how long the check took."""

    checks: tuple[CommandCheck, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[CommandCheck]:
        return [check for check in self.checks if check.failed]

    def count(self, outcome: Outcome) -> int:
        return sum(check.outcome == outcome for check in self.checks)


def sample_value(variable: str) -> str:
    """What a shell variable of the plan stands for while checking."""
    if variable.endswith("_URL"):
        return SAMPLE_URL
    return SAMPLES.get(variable, f"sample-{variable.lower().replace('_', '-')}")


def substituted(argv: Argv) -> Argv:
    """``argv`` with every ``${NAME}`` replaced by its sample value."""
    return tuple(VARIABLE.sub(lambda match: sample_value(match.group(1)), token)
                 for token in argv)


def classify(returncode: int, stderr: str) -> tuple[Outcome, str]:
    """The outcome of one sandboxed run, and gcloud's own words when it failed."""
    errors = "\n".join(line for line in stderr.splitlines()
                       if line.startswith(("ERROR:", "Usage:"))) or stderr.strip()[:500]
    if returncode == 0:
        return "parsed", ""
    if returncode == 2 or ARGUMENT_MARKERS.search(stderr):
        return "argument-error", errors
    if any(marker in stderr for marker in AUTH_MARKERS):
        return "parsed", ""
    return "rejected", errors


def sandbox_environment(home: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of one sandboxed gcloud: allowlisted, credential-free, loopback only."""
    env = {key: environ[key] for key in ALLOWED if key in environ}
    closed = f"http://{CLOSED_PORT}"
    env.update({
        "HOME": str(home),
        "TMPDIR": str(home),
        "CLOUDSDK_CONFIG": str(home / "gcloud"),
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
        "NO_GCE_CHECK": "True",
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "CLOUDSDK_SURVEY_DISABLE_PROMPTS": "true",
        # Without it gcloud asks the metadata server whether it runs on GCE
        # (a DNS lookup of metadata.google.internal) to label its metrics.
        "CLOUDSDK_METRICS_ENVIRONMENT": "phasegate-check",
        "GCE_METADATA_ROOT": CLOSED_PORT,
        "GCE_METADATA_HOST": CLOSED_PORT,
        "GCE_METADATA_IP": CLOSED_PORT,
        "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "http_proxy": closed, "https_proxy": closed,
        "CLOUDSDK_CORE_PROJECT": SAMPLES["PROJECT"],
        **{f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}": f"{closed}/"
           for api in API_OVERRIDES},
    })
    for name in CREDENTIALS:
        env.pop(name, None)
    return env


def _materialize(workdir: Path, steps: Iterable[PlanStep]) -> None:
    """Write the files the plan writes itself (read by gcloud while parsing: policy files)."""
    for step in steps:
        for path, text in step.writes:
            relative = PurePosixPath(path)
            if relative.is_absolute() or ".." in relative.parts:
                raise ValueError(f"a plan writes only below the working directory: {path}")
            target = workdir.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")


def _prepared_home(sandbox: Path, index: int) -> Path:
    home = sandbox / f"home-{index}"
    config = home / "gcloud"
    config.mkdir(parents=True)
    (config / "gce").write_text("False", encoding="utf-8")  # "not on GCE", cached: no probe
    return home


def _run(gcloud: str, argv: Argv, home: Path, workdir: Path, timeout: float,
         environ: Mapping[str, str]) -> tuple[Outcome, str]:
    command = [gcloud, *substituted(argv)[1:]]
    try:
        done = subprocess.run(command, cwd=workdir, env=sandbox_environment(home, environ),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "rejected", f"gcloud did not finish within {timeout:.0f} s"
    except OSError as error:
        return "rejected", f"cannot run {gcloud}: {error.strerror}"
    return classify(done.returncode, done.stderr)


EXPRESSION_FLAGS = ("--filter=", "--format=")
EXPRESSION_PROBE: Argv = ("gcloud", "config", "configurations", "list")


def expression_probe(argv: Argv) -> Argv | None:
    """An offline command that compiles ``argv``'s --filter and --format, or None."""
    expressions = tuple(token for token in argv if token.startswith(EXPRESSION_FLAGS))
    return (*EXPRESSION_PROBE, *expressions) if expressions else None


def _merged(command: tuple[Outcome, str], probe: tuple[Outcome, str] | None,
            ) -> tuple[Outcome, str]:
    """The command's outcome, failed when its expressions did not compile."""
    if command[0] in FAILED or probe is None or probe[0] not in FAILED:
        return command
    return probe[0], f"--filter/--format: {probe[1]}"


def find_gcloud(gcloud: str = "gcloud") -> str:
    """The path of the gcloud to use, or GcloudNotFound."""
    found = shutil.which(gcloud)
    if found is None:
        raise GcloudNotFound(f"{gcloud!r} not found: install the Google Cloud CLI to check "
                             "the plan")
    return found


def check_plan(steps: Sequence[PlanStep], gcloud: str = "gcloud", *,
               workers: int | None = None, timeout: float = 120.0) -> CheckResult:
    """Run every gcloud command of ``steps`` through gcloud's parser; never deploys.

    Steps that are not gcloud are reported as unchecked. Raises GcloudNotFound
    when gcloud is missing, GcloudUnusable when it accepts a known-bad command.
    """
    executable = find_gcloud(gcloud)
    started = time.monotonic()
    calibration = PlanStep("calibration: a flag that does not exist", CALIBRATION)
    jobs: list[tuple[PlanStep, Argv]] = [(step, argv) for step in [calibration, *steps]
                                         for argv in step.gcloud_commands()]
    probes = {index: probe for index, (_, argv) in enumerate(jobs)
              for probe in [expression_probe(argv)] if probe}
    runs: list[Argv] = [argv for _, argv in jobs] + list(probes.values())
    environ = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="phasegate-gcloud-check-") as directory:
        sandbox = Path(directory)
        workdir = sandbox / "work"
        workdir.mkdir()
        _materialize(workdir, steps)
        homes = [_prepared_home(sandbox, index) for index in range(len(runs))]
        pool_size = workers or min(16, os.cpu_count() or 2)  # CPU-bound: ~0.5 s of CPU each

        def run(index: int) -> tuple[Outcome, str]:
            return _run(executable, runs[index], homes[index], workdir, timeout, environ)

        with ThreadPoolExecutor(max_workers=max(1, pool_size)) as pool:
            results = list(pool.map(run, range(len(runs))))
    probed = dict(zip(probes, results[len(jobs):], strict=True))
    outcomes = [_merged(result, probed.get(index))
                for index, result in enumerate(results[:len(jobs)])]
    (calibrated, message), outcomes = outcomes[0], outcomes[1:]
    if calibrated != "argument-error":
        raise GcloudUnusable(f"{executable} did not reject an unknown flag ({calibrated}: "
                             f"{message or 'no error'}); its parser cannot check the plan")
    jobs = jobs[1:]
    by_step: dict[int, list[CommandCheck]] = {}
    for (step, argv), (outcome, message) in zip(jobs, outcomes, strict=True):
        by_step.setdefault(id(step), []).append(
            CommandCheck(step.description, argv, outcome, message))
    checks: list[CommandCheck] = []
    for step in steps:
        if step.gcloud:
            checks.extend(by_step.get(id(step), []))
        else:
            checks.append(CommandCheck(step.description, step.argv, "unchecked",
                                       "not a gcloud command"))
    return CheckResult(tuple(checks), time.monotonic() - started)
