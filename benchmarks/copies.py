"""Benchmark input shared by the canary and status benchmarks: the reference pipeline's
canary expectations with N copies of phase2_to_phase3, each in its own collection."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def with_copies(transitions: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the expectations with ``transitions`` copies t00, t01, ..., the copied transition)."""
    base = json.loads((REPO / "canary" / "expected.json").read_text())
    template = base["transitions"]["phase2_to_phase3"]
    data = copy.deepcopy(base)
    data["transitions"] = {f"t{i:02d}": {**template, "collection": f"c{i:02d}"}
                           for i in range(transitions)}
    return data, template
