"""A YAML loader that remembers where every value came from.

The validator must point at the exact line and column of a problem, and must
refuse input that a plain ``yaml.safe_load`` would silently misread: duplicate
keys (the last one wins without a word), YAML 1.1 booleans (``no`` becomes
``False``), alias bombs and tags beyond plain YAML's (``!!python/...``,
``!Ref``, ``!!set``, ``!!binary``), which would otherwise be read as the
plain value under them without a word. So the file is *composed* into a node graph (by
libyaml when it is present) and turned into Python values here, recording the
position of every key and value by its path from the root.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
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

MAX_DEPTH = 64
"""Nesting levels; a registry needs about six, and deeper input would exhaust the stack."""

MAX_EXPANDED_NODES = 1_000_000
"""Nodes after alias expansion; a billion-laughs document exceeds it at once."""

ProblemKind = Literal["syntax", "duplicate-key", "schema"]
PathKey = tuple[Hashable, ...]

_ScalarNode = yaml.ScalarNode
_BOOL_TAG = "tag:yaml.org,2002:bool"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_YAML_TAG = "tag:yaml.org,2002:"
# The tags a node may carry, written or resolved: plain YAML's, nothing else. ``value``
# is what ``=`` resolves to (refused as before, as a value that cannot be read).
_SCALAR_TAGS = frozenset(_YAML_TAG + name for name in (
    "str", "int", "float", "bool", "null", "timestamp", "merge", "value"))
_SEQUENCE_TAGS = frozenset({_YAML_TAG + "seq"})
_MAPPING_TAGS = frozenset({_YAML_TAG + "map"})
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


class Positions:
    """Where each key and value of a loaded document stands in its file.

    Positions are looked up in the composed node graph only when a finding
    needs one, so a clean run pays nothing for them.
    """

    def __init__(self, root: yaml.Node | None = None) -> None:
        self._root = root
        self._entries: dict[int, dict[Any, tuple[yaml.Node, yaml.Node]]] = {}

    def _mapping_entries(self, node: yaml.MappingNode) -> dict[Any, tuple[yaml.Node, yaml.Node]]:
        ident = id(node)
        entries = self._entries.get(ident)
        if entries is None:
            entries = {}
            merged: list[yaml.Node] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode)
                                  else [value_node])
                elif isinstance(key_node, yaml.ScalarNode):
                    entries[_scalar_value(key_node)] = (key_node, value_node)
            for source in merged:
                if isinstance(source, yaml.MappingNode):
                    for key, entry in self._mapping_entries(source).items():
                        entries.setdefault(key, entry)
            self._entries[ident] = entries
        return entries

    def of(self, path: PathKey, *, key: bool = False) -> Position:
        """The position of ``path`` (its key's with ``key=True``).

        A field left out (a default) is best shown at the entry that lacks
        it: the nearest ancestor's key.
        """
        node = self._root
        if node is None:
            return Position(1, 1)
        key_node: yaml.Node | None = None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                entry = self._mapping_entries(node).get(part)
                if entry is None:
                    break
                key_node, node = entry
            elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
                  and 0 <= part < len(node.value)):
                key_node, node = None, node.value[part]
            else:
                break
        else:
            if key and key_node is not None:
                return _position(key_node.start_mark)
            return _position(node.start_mark)
        return _position((key_node or node).start_mark)


@dataclass
class LoadedDocument:
    """The Python value of a YAML file, its positions and its problems."""

    path: str
    data: Any
    positions: Positions
    problems: list[LoadProblem]
    text: str = ""

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
    from phasegate.registry.confine import Unsafe, read_regular

    try:
        raw = read_regular(path, MAX_FILE_BYTES)
    except Unsafe as error:
        raise UnreadableFile(str(error)) from error
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
    document = load_text(text, shown)
    document.text = text
    return document


def _flow_too_deep(text: str, limit: int) -> Position | None:
    """Where ``[``/``{`` nesting passes ``limit``, or None.

    libyaml's composer recurses in C for every level of a flow collection and
    crashes the process (a segmentation fault, not an exception) on tens of
    thousands of them, before any depth check on the composed nodes could run:
    so count first. Quoted scalars and comments are skipped; a false alarm
    needs more than ``limit`` brackets in a plain scalar.
    """
    depth, quote, line, column, comment = 0, "", 1, 0, False
    previous = "\n"
    for char in text:
        column += 1
        if char == "\n":
            line, column, comment = line + 1, 0, False
        elif comment:
            pass
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and previous in " \t\n":
            comment = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return Position(line, column)
        elif char in "]}":
            depth = max(0, depth - 1)
        previous = char
    return None


def load_text(text: str, display_path: str = "<string>") -> LoadedDocument:
    """Compose ``text`` and build Python values, collecting every problem."""
    deep = _flow_too_deep(text, MAX_DEPTH) if ("[" * 8 in text or "{" * 8 in text
                                               or text.count("[") > MAX_DEPTH) else None
    if deep is not None:
        return LoadedDocument(display_path, None, Positions(), [LoadProblem(
            "syntax", deep,
            f"the document is nested too deeply (more than {MAX_DEPTH} levels)")])
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
    except RecursionError:
        return LoadedDocument(
            display_path, None, Positions(),
            [LoadProblem("syntax", Position(1, 1),
                         f"the document is nested too deeply (more than {MAX_DEPTH} levels)")],
        )
    except yaml.YAMLError as error:  # reader errors carry no mark
        return LoadedDocument(
            display_path, None, Positions(),
            [LoadProblem("syntax", Position(1, 1), f"YAML does not parse: {error}")],
        )
    builder = _Builder()
    if node is None:
        return LoadedDocument(display_path, None, Positions(), builder.problems)
    try:
        data = builder.value(node)
    except _Refused as refused:
        return LoadedDocument(display_path, None, Positions(), [refused.problem])
    return LoadedDocument(display_path, data, Positions(node), builder.problems, text)


class _Refused(Exception):
    def __init__(self, problem: LoadProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _scalar_value(node: yaml.Node) -> Any:
    """A scalar's Python value by the YAML 1.1 safe rules (booleans as written)."""
    if node.tag == _STR_TAG or node.tag not in _SCALAR_TAGS:
        return node.value  # an unsupported tag is a problem of its own: the text as written
    if node.tag == _BOOL_TAG:
        return _UNAMBIGUOUS_BOOLEANS.get(str(node.value), node.value)
    return SafeConstructor().construct_object(node, deep=True)


def shown_tag(tag: str) -> str:
    """A tag as it is written: ``!!name`` for YAML's own, the tag itself otherwise."""
    from phasegate.runtime import printable

    text = f"!!{tag[len(_YAML_TAG):]}" if tag.startswith(_YAML_TAG) else tag
    text = printable(text)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _tag_problem(node: yaml.Node) -> LoadProblem | None:
    """A node whose tag is not plain YAML's for its kind: a problem at the node, or None."""
    if isinstance(node, yaml.ScalarNode):
        allowed, kind = _SCALAR_TAGS, "a value"
    elif isinstance(node, yaml.SequenceNode):
        allowed, kind = _SEQUENCE_TAGS, "a list"
    else:
        allowed, kind = _MAPPING_TAGS, "a mapping"
    if node.tag in allowed:
        return None
    tag = shown_tag(str(node.tag))
    plain = node.tag in _SCALAR_TAGS | _SEQUENCE_TAGS | _MAPPING_TAGS
    what = f"tag {tag} does not fit {kind}" if plain else f"tag {tag} is not allowed"
    return LoadProblem(
        "syntax", _position(node.start_mark),
        f"{what}: phasegate reads plain YAML only (mappings, lists, strings, numbers, "
        "true/false, null, dates), and a tag would change what the text means; remove it",
        tag,
    )


class _Builder:
    """Turns composed nodes into plain values: duplicate keys, booleans, alias bombs."""

    def __init__(self) -> None:
        self.problems: list[LoadProblem] = []
        self._scalars = SafeConstructor()
        self._built: dict[int, tuple[Any, int]] = {}
        self._active: set[int] = set()
        self._refused: set[int] = set()  # nodes whose tag was reported
        self._expanded = 0

    def value(self, node: yaml.Node) -> Any:
        if node.__class__ is _ScalarNode:
            if node.tag == _STR_TAG:
                return node.value
            return self._scalar(node)
        ident = id(node)
        built = self._built.get(ident)
        if built is not None:  # an alias: reuse the value, count its expansion
            self._expanded += built[1]
            if self._expanded > MAX_EXPANDED_NODES:
                raise _Refused(LoadProblem(
                    "syntax", _position(node.start_mark),
                    f"the document expands to more than {MAX_EXPANDED_NODES:,} values through "
                    "aliases (an alias bomb?); refusing to load it",
                ))
            return built[0]
        if ident in self._active:
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark),
                "recursive alias: an anchor refers to itself; registries cannot be cyclic",
            ))
        if len(self._active) >= MAX_DEPTH:
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark),
                f"the document is nested more than {MAX_DEPTH} levels deep; refusing to load it",
            ))
        if node.tag not in (_MAPPING_TAGS if isinstance(node, yaml.MappingNode)
                            else _SEQUENCE_TAGS):
            self._refuse_tag(node)
        before = self._expanded
        self._expanded += 1
        self._active.add(ident)
        if isinstance(node, yaml.MappingNode):
            result: Any = self._mapping(node)
        else:
            result = [
                child.value if child.__class__ is _ScalarNode and child.tag == _STR_TAG
                else self.value(child)
                for child in node.value
            ]
            self._expanded += len(result)
        self._active.discard(ident)
        self._built[ident] = (result, self._expanded - before)
        return result

    def _refuse_tag(self, node: yaml.Node) -> None:
        """Record a node's unsupported tag once, however often it is aliased.

        Its value is built as if it had none (never by the tag's constructor).
        """
        if id(node) in self._refused:
            return
        self._refused.add(id(node))
        problem = _tag_problem(node)
        if problem is not None:
            self.problems.append(problem)

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._refuse_tag(node)
            return node.value  # never constructed: the text as written
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
        construct = SafeConstructor.yaml_constructors.get(node.tag)
        try:
            if construct is None:
                return self._scalars.construct_object(node, deep=True)
            return construct(self._scalars, node)
        except yaml.YAMLError as error:
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark), f"cannot read value: {error}",
            )) from error
        except ValueError as error:  # e.g. a timestamp such as 2026-02-30
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark),
                f"cannot read value {node.value!r}: {error}",
            )) from error

    def _mapping(self, node: yaml.MappingNode) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        merged: list[dict[Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self._merge_sources(value_node))
                continue
            if key_node.__class__ is not yaml.ScalarNode:
                raise _Refused(LoadProblem(
                    "syntax", _position(key_node.start_mark),
                    "a mapping key must be a plain value, not a list or mapping",
                ))
            key = key_node.value if key_node.tag == _STR_TAG else self._scalar(key_node)
            if key in first_line:
                self.problems.append(LoadProblem(
                    "duplicate-key", _position(key_node.start_mark),
                    f"duplicate key {key!r} (first defined at line {first_line[key]}); "
                    "YAML keeps only the last one, so the earlier entry is silently lost",
                    str(key),
                ))
            else:
                first_line[key] = key_node.start_mark.line + 1
            if value_node.__class__ is _ScalarNode and value_node.tag == _STR_TAG:
                result[key] = value_node.value
            else:
                result[key] = self.value(value_node)
        self._expanded += len(node.value)
        for source in merged:
            for key, value in source.items():
                result.setdefault(key, value)
        return result

    def _merge_sources(self, node: yaml.Node) -> list[dict[Any, Any]]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        built = [self.value(source) for source in sources]
        if not all(isinstance(source, dict) for source in built):
            raise _Refused(LoadProblem(
                "syntax", _position(node.start_mark), "a merge key (<<) must name mappings",
            ))
        return built
