"""The grid for tools: a stable JSON shape, documented in docs/status.md.

``format`` is bumped only when a field changes meaning or disappears; new
fields may be added. Times are ISO 8601 with their offset: ``generated_at``
in UTC, ``triggered_at`` in the registry's timezone. Pure.
"""

from __future__ import annotations

import json
from typing import Any

from phasegate.status.grid import Cell, Grid

FORMAT = 1


def as_data(grid: Grid) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "generated_at": grid.generated_at.isoformat(),
        "registry_digest": grid.registry_digest,
        "pipeline": grid.pipeline,
        "timezone": grid.timezone,
        "today": grid.today or None,
        "run_keys": list(grid.run_keys),
        "alerting": grid.alerting,
        "error": grid.error,
        "problems": list(grid.problems),
        "empty_reason": grid.empty_reason,
        "transitions": [{"name": row.name, "note": row.note,
                         "cells": [_cell(cell) for cell in row.cells],
                         "learned": [{"processor": item.processor,
                                      "latest_s": item.usual.latest.total_seconds(),
                                      "median_s": item.usual.median.total_seconds(),
                                      "samples": item.usual.samples} for item in row.learned]}
                        for row in grid.rows],
    }


def _cell(cell: Cell) -> dict[str, Any]:
    return {
        "run_key": cell.run_key,
        "state": cell.state,
        "alerting": cell.alerting,
        "detail": cell.detail,
        "missing": [{"name": m.name, "status": m.status, "last_reported": m.last_reported,
                     "this_run": m.this_run, "early": m.early} for m in cell.missing],
        "triggered_at": cell.triggered_at.isoformat() if cell.triggered_at else None,
        "reason": cell.reason,
        "warnings": [{"state": w.state, "alerting": w.alerting, "detail": w.detail}
                     for w in cell.warnings],
        "mode": cell.mode,
        "quiet": cell.quiet,
    }


def render(grid: Grid) -> str:
    return json.dumps(as_data(grid), indent=2) + "\n"  # ASCII: any stream can carry it
