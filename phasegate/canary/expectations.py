"""The canary's view of the registry: the generated ``canary/expected.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXPECTED_PATH = Path(__file__).with_name("expected.json")


def load_expectations(path: Path = EXPECTED_PATH) -> dict[str, Any]:
    """The generated expectations; a missing or hand-broken file is an error, never empty."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise RuntimeError(f"{path} is missing: run `phasegate generate`") from error
    except json.JSONDecodeError as error:
        raise RuntimeError(
            f"{path} is not valid JSON ({error}): run `phasegate generate`") from error
    for key in ("registry_digest", "transitions", "aliases", "processors", "canary"):
        if key not in data:
            raise RuntimeError(f"{path} lacks {key!r}: run `phasegate generate`")
    return data
