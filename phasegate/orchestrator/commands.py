"""``phasegate fire``: a manual firing through the orchestrator's own exactly-once path.

An operator who decides a run key should go ahead (a processor is known to
be gone for the day) fires it here rather than publishing by hand, so the
marker, the ``trigger_id`` and the document say what happened, and a
delivery or a canary run at the same moment cannot fire it a second time.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from phasegate.usage import UsageError

if TYPE_CHECKING:
    from phasegate.registry.loading import LoadedRegistry

EXIT_FIRED, EXIT_REFUSED, EXIT_FAILED = 0, 1, 3
MAX_NOTE_CHARS = 500


def fire_command(loaded: LoadedRegistry, root: Path, *, transition: str, run_key: str,
                 reason: str, project: str | None, out: TextIO, err: TextIO) -> int:
    """0 fired; 1 refused (already fired, being fired, or nothing to send); 3 Firestore or
    the target failed."""
    from phasegate.canary.commands import settings_for
    from phasegate.canary.run import one_line
    from phasegate.canary.store import FirestoreUnavailable, firestore_client
    from phasegate.orchestrator.core import (
        NothingToFire,
        Orchestrator,
        TriggerInProgress,
        TriggerPublishFailed,
        is_store_error,
    )
    from phasegate.orchestrator.logs import CheckpointLog
    from phasegate.orchestrator.store import StoreUnavailable
    from phasegate.runtime import Expectations, printable

    _, settings = settings_for(loaded, root)
    try:
        day = dt.date.fromisoformat(run_key)
    except ValueError as error:
        raise UsageError(f"RUN_KEY {run_key!r} is not a date (YYYY-MM-DD)") from error
    transitions = settings.expectations["transitions"]
    if transition not in transitions:
        raise UsageError(f"unknown transition {transition!r}; the registry has: "
                         f"{', '.join(sorted(transitions)) or 'none'}")
    note = reason.strip()
    if not note:
        raise UsageError("--reason must say why this run key is fired by hand")
    if len(note) > MAX_NOTE_CHARS:
        raise UsageError(f"--reason is longer than {MAX_NOTE_CHARS} characters")
    expectations = Expectations(settings.expectations, str(loaded.path))
    try:
        orchestrator = Orchestrator(transition, firestore_client(project),
                                    expectations=expectations, project=project,
                                    log=CheckpointLog(stream=io.StringIO()))
        outcome = orchestrator.fire_manual(day, note)
    except NothingToFire as error:
        print(f"phasegate: {error}", file=err)
        return EXIT_REFUSED
    except TriggerInProgress:
        print(f"phasegate: {transition}/{run_key} is being fired right now by another attempt; "
              "nothing sent from here", file=err)
        return EXIT_REFUSED
    except FirestoreUnavailable as error:
        print(f"phasegate: error: cannot reach Firestore: {error}", file=err)
        return EXIT_FAILED
    except (StoreUnavailable, TriggerPublishFailed) as error:
        print(f"phasegate: error: {transition}/{run_key} was not fired: {error}; it stays "
              "pending and a delivery or the next canary run retries it", file=err)
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - a person reads this; the firing stays pending
        if is_store_error(error):
            print(f"phasegate: error: cannot reach Firestore ({one_line(error)[:200]}); "
                  f"{transition}/{run_key} was not fired", file=err)
        else:
            print(f"phasegate: error: {transition}/{run_key} was not fired: {one_line(error)}",
                  file=err)
        return EXIT_FAILED
    if outcome.triggered_now:
        missing = ", ".join(outcome.missing) or "none"
        print(f"fired {transition}/{run_key} (reason manual: {printable(note)}); "
              f"{len(outcome.completed)} complete, missing {missing}", file=out)
        return EXIT_FIRED
    print(f"phasegate: {transition}/{run_key} has already fired; nothing sent", file=err)
    return EXIT_REFUSED

