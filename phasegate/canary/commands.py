"""``phasegate canary run``, ``canary heartbeat`` and ``explain``: one typed function each.

The command line parses and calls these; Firestore, the clock and the
output streams are passed in or made here, at the edge.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from phasegate.usage import UsageError

if TYPE_CHECKING:
    from phasegate.canary.evaluate import Settings
    from phasegate.canary.run import RunResult
    from phasegate.registry.loading import LoadedRegistry
    from phasegate.registry.models import Registry

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


def settings_for(loaded: LoadedRegistry, root: Path) -> tuple[Registry, Settings]:
    """The registry and the canary's settings (the same data the deployed canary reads)."""
    from phasegate.generation import GenerationError, canary_settings

    if loaded.registry is None:
        raise UsageError(f"{loaded.path} has errors; run `phasegate validate`")
    try:
        return loaded.registry, canary_settings(loaded.registry, loaded.path, root)
    except GenerationError as error:
        raise UsageError(str(error)) from error


def run_command(loaded: LoadedRegistry, root: Path, *, project: str | None,
                now: dt.datetime | None, record: bool, dry_run: bool, once: bool,
                output_format: str, out: TextIO, err: TextIO) -> int:
    """Evaluate and notify, once (``once`` or ``now``) or at the schedule's interval."""
    from phasegate.canary.run import report_failure, run_once
    from phasegate.canary.settings import interval_minutes
    from phasegate.canary.store import CanaryStore, FirestoreUnavailable, firestore_client

    if record and now is None:
        raise UsageError("--record only applies to a replay with --now (a run at the clock "
                         "always records)")
    if record and dry_run:
        raise UsageError("--record and --dry-run contradict each other")
    # DESIGN: a replay (--now) never opens or resolves real incidents unless asked to
    dry = bool(dry_run or (now is not None and not record))
    registry, settings = settings_for(loaded, root)
    try:
        client = firestore_client(project)
    except FirestoreUnavailable as error:
        return _show(report_failure(settings, now or dt.datetime.now(dt.UTC),
                                    f"the canary could not reach Firestore: {error}",
                                    stream=err, dry_run=dry), output_format, out, err)
    store = CanaryStore(client, pipeline=registry.pipeline)
    looping = not (once or now is not None)
    while True:
        moment = now or dt.datetime.now(dt.UTC)
        problems: list[str] = []
        interval = None
        if looping:
            try:
                interval = interval_minutes(settings)
            except ValueError as error:
                problems.append(f"{error}: `canary run` without --once cannot keep a "
                                "schedule, so this run is its last (run it from cron with "
                                "--once, or fix the schedule)")
        result = run_once(store, settings, moment, dry_run=dry, stream=err, problems=problems)
        code = _show(result, output_format, out, err)
        if interval is None:
            return code
        time.sleep(60 * interval)


def _show(result: RunResult, output_format: str, out: TextIO, err: TextIO) -> int:
    from phasegate.canary.run import EXIT_FAILED

    if output_format == "json":
        out.write(json.dumps(result.as_json(), indent=2, default=str) + "\n")
    else:
        out.write(result.as_text())
    out.flush()
    if result.exit_code == EXIT_FAILED and result.errors:
        more = len(result.errors) - 1
        print(f"phasegate: error: {result.errors[0]}" + (f" (and {more} more)" if more else ""),
              file=err)
    return result.exit_code


def heartbeat_command(loaded: LoadedRegistry, root: Path, *, project: str | None,
                      now: dt.datetime | None, max_age: dt.timedelta, out: TextIO,
                      err: TextIO) -> int:
    """0 recent, 1 older than ``max_age`` or never, 3 unreadable (said where alerts go)."""
    from phasegate.canary.run import EXIT_FAILED, one_line, report_failure
    from phasegate.canary.store import CanaryStore, FirestoreUnavailable, firestore_client

    if loaded.registry is None:
        raise UsageError(f"{loaded.path} has errors; run `phasegate validate`")
    moment = now or dt.datetime.now(dt.UTC)
    try:
        beat = CanaryStore(firestore_client(project), timeout=15,
                           pipeline=loaded.registry.pipeline).read_heartbeat()
    except Exception as error:  # noqa: BLE001 - unreadable is its own exit code
        reason = str(error) if isinstance(error, FirestoreUnavailable) else one_line(error)
        message = f"cannot read the canary heartbeat: {reason}"
        try:  # the watchdog is blind: say so where the canary's alerts go
            _, settings = settings_for(loaded, root)
        except UsageError:
            pass
        else:
            report_failure(settings, moment, message, stream=err)
        print(f"phasegate: error: {message}", file=err)
        return EXIT_FAILED
    return _judge_heartbeat(beat, moment, max_age, out, err)


def _judge_heartbeat(beat: dict[str, Any] | None, now: dt.datetime, max_age: dt.timedelta,
                     out: TextIO, err: TextIO) -> int:
    from phasegate.runtime import as_time

    if beat is None:
        print("phasegate: the canary has never recorded a heartbeat", file=err)
        return EXIT_FINDINGS
    at = as_time(beat.get("at"))
    if at is None:
        print("phasegate: the canary's heartbeat record is malformed (no time)", file=err)
        return EXIT_FINDINGS
    age = now - at
    print(f"last canary run {at.isoformat()} ({age} ago), outcome "
          f"{str(beat.get('outcome'))[:40]}", file=out)
    if age > max_age:
        print(f"phasegate: the canary's last run is older than {max_age}", file=err)
        return EXIT_FINDINGS
    return EXIT_CLEAN


def explain_command(loaded: LoadedRegistry, root: Path, *, transition: str, run_key: str,
                    project: str | None, now: dt.datetime | None, out: TextIO,
                    err: TextIO) -> int:
    """One screen about one document; 3 when Firestore cannot be read (no alert: a person
    runs this)."""
    from phasegate.canary.explain import explain
    from phasegate.canary.run import EXIT_FAILED, one_line
    from phasegate.canary.store import CanaryStore, FirestoreUnavailable, firestore_client

    registry, settings = settings_for(loaded, root)
    try:
        dt.date.fromisoformat(run_key)
    except ValueError as error:
        raise UsageError(f"RUN_KEY {run_key!r} is not a date (YYYY-MM-DD)") from error
    transitions = settings.expectations["transitions"]
    if transition not in transitions:
        raise UsageError(f"unknown transition {transition!r}; the registry has: "
                         f"{', '.join(sorted(transitions))}")
    try:
        store = CanaryStore(firestore_client(project), timeout=15, pipeline=registry.pipeline)
        text = explain(store, settings, transition, run_key, now or dt.datetime.now(dt.UTC))
    except FirestoreUnavailable as error:
        print(f"phasegate: error: cannot read Firestore: {error}", file=err)
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001
        print(f"phasegate: error: cannot read Firestore: {one_line(error)}", file=err)
        return EXIT_FAILED
    out.write(text)
    return EXIT_CLEAN
