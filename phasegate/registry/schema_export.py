"""Write registry/schema.json from the models: ``python -m phasegate.registry.schema_export``."""

from __future__ import annotations

import json
from pathlib import Path

from phasegate.registry.schema_models import export_schema

SCHEMA_PATH = Path(__file__).with_name("schema.json")


def schema_text() -> str:
    """The checked-in schema's exact text, so a test can compare byte for byte."""
    return json.dumps(export_schema(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()
