"""Checkpoint logs: one structured JSON line per step, in Cloud Logging's format.

Cloud Functions forwards stdout lines that are JSON objects as structured
entries: ``severity`` and ``message`` are understood, labels become
filterable, and the trace field groups a run's lines.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal, TextIO, get_args

Checkpoint = Literal[
    "RECEIVED", "RECORDED", "DUPLICATE", "UNKNOWN_PROCESSOR", "REJECTED", "WAITING",
    "TRIGGER_SET", "TRIGGER_PUBLISHED", "TRIGGER_FAILED", "ALREADY_TRIGGERED",
    "COLD_START_FAILED", "OUT_OF_SCOPE", "TRIGGER_IN_PROGRESS", "STORE_UNAVAILABLE",
    "MIRROR_FAILED",
]
CHECKPOINTS: frozenset[str] = frozenset(get_args(Checkpoint))


class CheckpointLog:
    """Writes checkpoint lines; the stream is injectable so tests can read them."""

    def __init__(self, stream: TextIO | None = None, project: str | None = None) -> None:
        self.stream = stream
        self.project = project

    def emit(self, checkpoint: Checkpoint, message: str, *, severity: str = "INFO",
             transition: str = "", run_key: str = "", correlation_id: str | None = None,
             **fields: Any) -> dict[str, Any]:
        assert checkpoint in CHECKPOINTS, checkpoint
        entry: dict[str, Any] = {
            "severity": severity,
            "message": f"{' '.join(p for p in (checkpoint, transition, run_key) if p)}: "
                       f"{message}",
            "checkpoint": checkpoint,
            "transition": transition,
            "run_key": run_key,
            **{k: v for k, v in fields.items() if v is not None},
            "logging.googleapis.com/labels": {
                "phasegate_transition": transition,
                "phasegate_run_key": run_key,
                "phasegate_checkpoint": checkpoint,
            },
        }
        if correlation_id:
            entry["correlation_id"] = correlation_id
            project = self.project or "-"
            entry["logging.googleapis.com/trace"] = f"projects/{project}/traces/{correlation_id}"
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(json.dumps(entry, default=str, sort_keys=True) + "\n")
        stream.flush()
        return entry
