"""A YAML loader that remembers where every value came from.

The validator must point at the exact line and column of a problem, and must
refuse input that a plain ``yaml.safe_load`` would silently misread: duplicate
keys (the last one wins without a word), YAML 1.1 booleans (``no`` becomes
``False``) and alias bombs. So the file is *composed* into a node graph (by
libyaml when it is present) and turned into Python values here, recording the
position of every key and value by its path from the root.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from yaml.constructor import SafeConstructor

try:  # libyaml's composer is several times faster; fall back silently.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Registries are hand-written; anything larger is a mistake or an attack."""

MAX_EXPANDED_NODES = 1_000_000
"""Nodes after alias expansion; a billion-laughs document exceeds it at once."""

ProblemKind = Literal["syntax", "duplicate-key", "schema"]
PathKey = tuple[Hashable, ...]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_UNAMBIGUOUS_BOOLEANS = {"true": True, "True": True, "TRUE": True,
                         "false": False, "False": False, "FALSE": False}


@dataclass(frozen=True)
class Position:
    """1-based line and column, as editors and CI annotations count them."""

    line: int
    column: int


@dataclass(frozen=True)
class LoadProblem:
    """Something wrong with the text itself, found while loading."""

    kind: ProblemKind
    position: Position
    message: str
    subject: str = ""


@dataclass
class Positions:
    """Where each key and value of a loaded document stands in its file."""

    keys: dict[PathKey, Position] = field(default_factory=dict)
    values: dict[PathKey, Position] = field(default_factory=dict)

    def of(self, path: PathKey, *, key: bool = False) -> Position:
        """The position of ``path``, or of its nearest ancestor's key.

        A field left out (a default) is best shown at the entry that lacks it.
        Values reached through an alias have no positions of their own; the
        alias (an ancestor) is the best place to point at.
        """
        table = self.keys if key else self.values
        probe = tuple(path)
        if probe in table:
            return table[probe]
        while probe:
            if probe in self.keys:  # an absent field: point at the entry that lacks it
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))


@dataclass
class LoadedDocument:
    """The Python value of a YAML file, its positions and its problems."""

    path: str
    data: Any
    positions: Positions
    problems: list[LoadProblem]

    @property
    def fatal(self) -> bool:
        """True when nothing useful can be checked beyond the problems."""
        return any(p.kind == "syntax" for p in self.problems)


class UnreadableFile(Exception):
    """The file cannot be read at all (missing, a directory, too large)."""


def _position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def read_text(path: Path) -> str | LoadProblem:
    """Read ``path`` as UTF-8, refusing what no registry can be.

    Returns the text, or a syntax problem for bytes that are not UTF-8.
    Raises :class:`UnreadableFile` when the file cannot be read.
    """
    try:
        if path.is_dir():
            raise UnreadableFile(f"{path}: is a directory, not a YAML file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnreadableFile(
                f"{path}: {size:,} bytes is larger than the {MAX_FILE_BYTES:,}-byte limit "
                "for a registry; is this the right file?"
            )
        raw = path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"{path}: cannot read: {error.strerror or error}") from error
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        return LoadProblem(
            "syntax",
            Position(line, column),
            f"not UTF-8 text: byte 0x{raw[error.start]:02x} cannot be decoded; "
            "save the file as UTF-8",
        )


def load_file(path: Path, display_path: str | None = None) -> LoadedDocument:
    """Load one YAML file with positions; see :func:`load_text`."""
    shown = display_path or str(path)
    text = read_text(path)
    if isinstance(text, LoadProblem):
        return LoadedDocument(shown, None, Positions(), [text])
    return load_text(text, shown)


def load_text(text: str, display_path: str = "<string>") -> LoadedDocument:
    """Compose ``text`` and build Python values, collecting every problem."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = _position(mark) if mark is not None else Position(1, 1)
        problem = " ".join(part for part in (error.context, error.problem) if part)
        return LoadedDocument(
            display_path, None, Positions(),
            [LoadProblem("syntax", where, f"YAML does not parse: {problem}")],
        )
    except yaml.YAMLError as error:  # reader errors carry no mark
        return LoadedDocument(
            display_path, None, Positions(),
            [LoadProblem("syntax", Position(1, 1), f"YAML does not parse: {error}")],
        )
    builder = _Builder()
    if node is None:
        return LoadedDocument(display_path, None, builder.positions, builder.problems)
    try:
        data = builder.build(node, ())
    except _Refused as refused:
        return LoadedDocument(display_path, None, Positions(), [refused.problem])
    return LoadedDocument(display_path, data, builder.positions, builder.problems)


class _Refused(Exception):
    def __init__(self, problem: LoadProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Builder:
    """Turns composed nodes into plain values, recording positions."""

    def __init__(self) -> None:
        self.positions = Positions()
        self.problems: list[LoadProblem] = []
        self._scalars = SafeConstructor()
        self._built: dict[int, Any] = {}
        self._sizes: dict[int, int] = {}
        self._active: set[int] = set()
        self._expanded = 0

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.positions.values[path] = _position(node.start_mark)
        return self._value(node, path)

    def _value(self, node: yaml.Node, path: PathKey) -> Any:
        ident = id(node)
        if ident in self._active:
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark),
                "recursive alias: an anchor refers to itself; registries cannot be cyclic",
            ))
        if ident in self._built:  # an alias: reuse the value, count its expansion
            self._count(self._sizes[ident], node)
            return self._built[ident]
        before = self._expanded
        self._count(1, node)
        self._active.add(ident)
        try:
            if isinstance(node, yaml.MappingNode):
                value: Any = self._mapping(node, path)
            elif isinstance(node, yaml.SequenceNode):
                value = self._sequence(node, path)
            else:
                value = self._scalar(node)
        finally:
            self._active.discard(ident)
        self._built[ident] = value
        self._sizes[ident] = self._expanded - before
        return value

    def _count(self, amount: int, node: yaml.Node) -> None:
        self._expanded += amount
        if self._expanded > MAX_EXPANDED_NODES:
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark),
                f"the document expands to more than {MAX_EXPANDED_NODES:,} values through "
                "aliases (an alias bomb?); refusing to load it",
            ))

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == _BOOL_TAG:
            spelled = str(node.value)
            if spelled in _UNAMBIGUOUS_BOOLEANS:
                return _UNAMBIGUOUS_BOOLEANS[spelled]
            self.problems.append(LoadProblem(
                "schema", _position(node.start_mark),
                f"ambiguous boolean {spelled!r}: YAML 1.1 reads it as a boolean and YAML 1.2 "
                "as a string; write true or false (or quote it to mean the text)",
                spelled,
            ))
            return spelled
        if node.tag == _STR_TAG:
            return node.value
        try:
            return self._scalars.construct_object(node, deep=True)
        except yaml.YAMLError as error:
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark), f"cannot read value: {error}",
            )) from error
        except ValueError as error:  # e.g. a timestamp such as 2026-02-30
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark),
                f"cannot read value {node.value!r}: {error}",
            )) from error

    def _sequence(self, node: yaml.SequenceNode, path: PathKey) -> list[Any]:
        items = []
        for index, child in enumerate(node.value):
            child_path = (*path, index)
            self.positions.values[child_path] = _position(child.start_mark)
            items.append(self._value(child, child_path))
        return items

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Position] = {}
        merged: list[dict[Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(LoadProblem(
                    "syntax", _position(key_node.start_mark),
                    "a mapping key must be a plain value, not a list or mapping",
                ))
            key = self._scalar(key_node)
            if not isinstance(key, Hashable):  # pragma: no cover - scalars are hashable
                key = str(key)
            key_position = _position(key_node.start_mark)
            if key in first_seen:
                earlier = first_seen[key]
                self.problems.append(LoadProblem(
                    "duplicate-key", key_position,
                    f"duplicate key {key!r} (first defined at line {earlier.line}); "
                    "YAML keeps only the last one, so the earlier entry is silently lost",
                    str(key),
                ))
            else:
                first_seen[key] = key_position
            child_path = (*path, key)
            self.positions.keys[child_path] = key_position
            self.positions.values[child_path] = _position(value_node.start_mark)
            result[key] = self._value(value_node, child_path)
        for source in merged:
            for key, value in source.items():
                result.setdefault(key, value)
        return result

    def _merge_sources(self, node: yaml.Node, path: PathKey) -> list[dict[Any, Any]]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        built = [self._value(source, path) for source in sources]
        if not all(isinstance(source, dict) for source in built):
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark), "a merge key (<<) must name mappings",
            ))
        return built
