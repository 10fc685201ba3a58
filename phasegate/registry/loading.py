"""Load a registry file into validated objects, or into positioned problems.

Loading is kept apart from checking: this module turns text into either a
:class:`~registry.models.Registry` or a list of :class:`LoadProblem` with
line and column; the validator decides what those problems are called.

A valid registry takes the fast path (:mod:`registry.schema_check`); only
when that finds a problem are pydantic and the schema models imported, to
say precisely what is wrong and where.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phasegate.registry.constraints import NAME_PATTERN
from phasegate.registry.models import Registry, registry_from_data
from phasegate.registry.schema_check import conforms
from phasegate.registry.yaml_loader import (
    LoadedDocument,
    LoadProblem,
    PathKey,
    Positions,
    load_file,
    load_text,
)

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError


@dataclass
class LoadedRegistry:
    """A registry file after loading: the model when it is valid, and every problem."""

    document: LoadedDocument
    registry: Registry | None

    @property
    def path(self) -> str:
        return self.document.path

    @property
    def positions(self) -> Positions:
        return self.document.positions

    @property
    def problems(self) -> list[LoadProblem]:
        return self.document.problems


def load_registry(path: Path, display_path: str | None = None) -> LoadedRegistry:
    """Read, parse and validate the registry at ``path``.

    Raises :class:`registry.yaml_loader.UnreadableFile` when the file cannot
    be read at all; every other problem is returned with its position.
    """
    return _validate(load_file(path, display_path))


def load_registry_text(text: str, display_path: str = "<string>") -> LoadedRegistry:
    """Like :func:`load_registry`, for text already in memory (tests, examples)."""
    return _validate(load_text(text, display_path))


def _validate(document: LoadedDocument) -> LoadedRegistry:
    if document.fatal:
        return LoadedRegistry(document, None)
    data = document.data
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a {_kind_of(data)}"
        document.problems.append(LoadProblem(
            "schema", document.positions.of(()),
            f"a registry is a mapping with version, pipeline, timezone and processors; "
            f"found {found}",
        ))
        return LoadedRegistry(document, None)
    loader_flagged = any(p.kind == "schema" for p in document.problems)
    if not loader_flagged and conforms(data):
        return LoadedRegistry(document, registry_from_data(data))
    # Something is wrong: let the pydantic models say exactly what, and where.
    from pydantic import ValidationError

    from phasegate.registry.schema_models import Registry as RegistrySchema

    try:
        RegistrySchema.model_validate(data)
    except ValidationError as error:
        already = {p.position for p in document.problems}
        document.problems.extend(
            p for p in _problems_from(error, data, document.positions) if p.position not in already
        )
        return LoadedRegistry(document, None)
    if loader_flagged:
        return LoadedRegistry(document, None)
    return LoadedRegistry(document, registry_from_data(data))


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _all_field_names() -> list[str]:

    from phasegate.registry.schema_models import Registry as RegistrySchema

    names: set[str] = set()
    pending: list[type[BaseModel]] = [RegistrySchema]
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for field_name, info in model.model_fields.items():
            names.add(info.alias or field_name)
            for arg in _model_types(info.annotation):
                pending.append(arg)
    return sorted(names)


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_model_types(arg))
    return found


def _indexes(container: Any, part: Any) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _is_branch_tag(part: Any) -> bool:
    return isinstance(part, str) and part.startswith(("literal[", "list["))


def _real_path(loc: Sequence[Any], data: Any) -> tuple[PathKey, bool]:
    """The part of a pydantic ``loc`` that indexes the data, and whether it ends at a key."""
    path: list[Hashable] = []
    current = data
    for part in loc:
        if part == "[key]":
            return tuple(path), True
        if _indexes(current, part):
            path.append(part)
            current = current[part]
        elif isinstance(part, str) and ("[" in part or "-" in part):
            continue  # a union branch tag such as "list[constrained-str]"
        elif isinstance(current, dict):
            path.append(part)  # a missing or unknown field
            current = None
    return tuple(path), False


def _value_at(data: Any, path: PathKey) -> Any:
    for part in path:
        data = data[part]
    return data


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "registry"


def _problems_from(error: ValidationError, data: Any, positions: Positions) -> list[LoadProblem]:
    problems: list[LoadProblem] = []
    reported: set[PathKey] = set()
    for detail in error.errors():
        loc = detail["loc"]
        kind = detail["type"]
        value = detail.get("input")
        path, at_key = _real_path(loc, data)
        branch = next((i for i, part in enumerate(loc) if _is_branch_tag(part)), None)
        if branch is not None:
            union_path, _ = _real_path(loc[:branch], data)
            union_value = _value_at(data, union_path)
            if isinstance(union_value, list):
                if str(loc[branch]).startswith("literal["):
                    continue  # the list branch's errors say what is wrong inside the list
            else:
                if union_path not in reported:
                    reported.add(union_path)
                    problems.append(LoadProblem(
                        "schema", positions.of(union_path),
                        f"{_dotted(union_path)}: must be 'all' or a list of processor names, "
                        f"not {union_value!r}",
                        str(union_path[-1]) if union_path else "",
                    ))
                continue
        problems.append(_problem(kind, detail, path, at_key, value, positions))
    return problems


def _problem(
    kind: str, detail: Any, path: PathKey, at_key: bool, value: Any, positions: Positions
) -> LoadProblem:
    subject = str(path[-1]) if path else ""
    where = _dotted(path)
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(path[-1]), _all_field_names(), 1, 0.7)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        parent = _dotted(path[:-1])
        return LoadProblem(
            "schema", positions.of(path, key=True),
            f"unknown field {path[-1]!r} in {parent}{hint}", subject,
        )
    if kind == "missing":
        owner = path[:-1]
        return LoadProblem(
            "schema", positions.of(owner, key=True),
            f"{_dotted(owner)}: missing required field {path[-1]!r}", subject,
        )
    pattern = detail.get("ctx", {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern == NAME_PATTERN:
        what = "name" if at_key else "reference"
        return LoadProblem(
            "schema", positions.of(path, key=at_key),
            f"{where}: {value!r} is not a valid {what}: use letters, digits and _, "
            "not starting with a digit", str(value),
        )
    message = str(detail["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    else:
        message = message[:1].lower() + message[1:]
        if not isinstance(value, dict | list):
            message += f", got {value!r}"
        if kind in ("date_type", "date_parsing", "date_from_datetime_inexact"):
            message += " (write an unquoted date such as 2026-02-07)"
    return LoadProblem("schema", positions.of(path, key=at_key), f"{where}: {message}", subject)
