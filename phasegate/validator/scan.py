"""Find registry names in Python source with ``ast``: never importing or running it.

Pure: text in, :class:`FileScan` out. A cheap regular expression first
decides whether a file quotes anything name-like at all; only those files
are parsed, which keeps a 10,000-file tree fast (parsing every file would
take most of the time).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from phasegate.validator.suppression import Suppression, find_suppressions
from phasegate.validator.vocabulary import Vocabulary

# dots too: processors' outputs are table names such as "nba_raw.gamebook"
_QUOTED_TOKEN = re.compile(r"""['"]([A-Za-z_][A-Za-z0-9_.]*)['"]""")
_UNDERSCORED_WORD = re.compile(r"[A-Za-z0-9]+_[A-Za-z0-9_]*")
_CLASS_LINE = re.compile(r"^[ \t]*class[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)


@dataclass(frozen=True)
class NameString:
    """A string literal that is, or looks like, a registry name."""

    value: str
    line: int
    column: int
    switched_off: bool = False  # a dict key the code maps to False, None or "disabled"
    kind: str | None = None  # passed to a function of references.calls: scraper | processor
    embedded: bool = False  # found inside a longer string, at word boundaries


@dataclass(frozen=True)
class NameContainer:
    """A literal list, set, tuple or dict (keys) holding registry processor names."""

    kind: str
    line: int
    column: int
    names: tuple[str, ...]  # canonical processor names, in order, distinct
    target: str | None = None  # the name it is assigned to (``X = [...]``), if any
    # only strings (list, tuple, set), or a flag map (dict: string keys, every value a
    # literal boolean, number or None); a routing table mapping names to classes is not
    literal: bool = True


@dataclass
class FileScan:
    path: str
    syntax_error: tuple[int, int, str] | None = None
    strings: list[NameString] = field(default_factory=list)
    containers: list[NameContainer] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    # canonical processors one of whose aliases names a class defined here (its own module)
    owners: frozenset[str] = frozenset()
    suppressions: list[Suppression] = field(default_factory=list)


def scan_python(path: str, text: str, vocabulary: Vocabulary) -> FileScan:
    """Names, name containers, class definitions and suppressions in one file."""
    scan = FileScan(path, suppressions=find_suppressions(text))
    calls = {c.function for c in vocabulary.calls if c.function in text}
    if not calls and not any(vocabulary.interesting(t) for t in _QUOTED_TOKEN.findall(text)) \
            and not _may_mention(text, vocabulary):
        scan.classes.update(_CLASS_LINE.findall(text))
        return scan
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        scan.syntax_error = (error.lineno or 1, error.offset or 1, error.msg)
        return scan
    except ValueError as error:  # e.g. NUL bytes
        scan.syntax_error = (1, 1, str(error))
        return scan
    lines = text.splitlines()
    targets: dict[int, str] = {}  # id(value) -> the single name it is assigned to
    off: set[int] = set()  # id(key) of dict keys mapped to False, None or "disabled"
    passed: dict[int, str] = {}  # id(argument) of a configured call -> the kind it names
    prose: set[int] = set()  # id() of bare string statements: docstrings say, they do not use
    routed: set[int] = set()  # id() of collections that are values of a name-keyed dict
    for node in ast.walk(tree):  # breadth first: a parent is seen before its children
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            prose.add(id(node.value))
        elif isinstance(node, ast.ClassDef):
            scan.classes.add(node.name)
        elif isinstance(node, ast.Call):
            if calls:
                passed.update(_passed_names(node, calls, vocabulary))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            kind = passed.get(id(node))
            if kind is not None or vocabulary.interesting(node.value):
                line, column = _place(node, lines)
                scan.strings.append(
                    NameString(node.value, line, column, id(node) in off, kind))
            elif vocabulary.embedded and id(node) not in prose:
                mentioned = vocabulary.mentions(node.value)
                if mentioned:
                    line, column = _place(node, lines)
                    scan.strings.extend(NameString(name, line, column, embedded=True)
                                        for name in dict.fromkeys(mentioned))
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name):
                targets[id(node.value)] = target.id
        elif isinstance(node, ast.List | ast.Set | ast.Tuple | ast.Dict):
            if isinstance(node, ast.Dict):
                off.update(id(k) for k, v in zip(node.keys, node.values, strict=True)
                           if k is not None and _switched_off(v))
                if any(isinstance(k, ast.Constant) and k.value in vocabulary.aliases
                       for k in node.keys):
                    # a routing or dependency table: what each name needs, not a copy of a set
                    routed.update(id(v) for v in node.values
                                  if isinstance(v, ast.List | ast.Set | ast.Tuple))
            if id(node) in routed:
                continue
            container = _container(node, vocabulary, lines, targets.get(id(node)), off)
            if container is not None:
                scan.containers.append(container)
    scan.owners = frozenset(
        vocabulary.aliases[c] for c in scan.classes
        if c in vocabulary.aliases and vocabulary.aliases[c] != c)
    scan.strings.sort(key=lambda s: (s.line, s.column))
    scan.containers.sort(key=lambda c: (c.line, c.column))
    return scan


def _may_mention(text: str, vocabulary: Vocabulary) -> bool:
    """A cheap superset test: some word of the text is part of a name found inside strings."""
    words = vocabulary.embedded_words
    return bool(words) and any(w in words for w in _UNDERSCORED_WORD.findall(text))


def _passed_names(
    node: ast.Call, calls: set[str], vocabulary: Vocabulary,
) -> dict[int, str]:
    """id() of each string literal this call passes where references.calls declares a name."""
    callee = node.func
    name = (callee.id if isinstance(callee, ast.Name)
            else callee.attr if isinstance(callee, ast.Attribute) else None)
    if name not in calls:
        return {}
    found: dict[int, str] = {}
    for call in vocabulary.calls:
        if call.function != name:
            continue
        value: ast.expr | None = None
        if call.arg is not None:
            before = node.args[:call.arg + 1]
            if len(node.args) > call.arg and not any(isinstance(a, ast.Starred) for a in before):
                value = node.args[call.arg]
        else:
            value = next((k.value for k in node.keywords if k.arg == call.keyword), None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found[id(value)] = call.kind
    return found


def _container(
    node: ast.List | ast.Set | ast.Tuple | ast.Dict, vocabulary: Vocabulary, lines: list[str],
    target: str | None, off: set[int],
) -> NameContainer | None:
    elements = node.keys if isinstance(node, ast.Dict) else node.elts
    names: list[str] = []
    for element in elements:
        if id(element) in off:
            continue  # a flag map's entry the code switches off: not a name the copy holds
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            canonical = vocabulary.aliases.get(element.value)
            if canonical is not None and canonical not in names:
                names.append(canonical)
    if len(names) < 2:
        return None
    literal = all(_is_string(e) for e in elements)
    if isinstance(node, ast.Dict):
        literal = literal and all(_is_flag(v) for v in node.values)
    line, column = _place(node, lines)
    kind = type(node).__name__.lower()
    return NameContainer(kind, line, column, tuple(names), target, literal)


def _is_string(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_flag(node: ast.expr) -> bool:
    """A literal boolean, number (also negative) or None: a flag map's value."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and (
        node.value is None or isinstance(node.value, bool | int | float))


def _switched_off(node: ast.expr) -> bool:
    """The code's own word that a name is off: ``False``, ``None`` or ``"disabled"``."""
    return isinstance(node, ast.Constant) and (
        node.value is False or node.value is None or node.value == "disabled")


def _place(node: ast.expr, lines: list[str]) -> tuple[int, int]:
    """1-based line and character column (ast counts UTF-8 bytes)."""
    line = node.lineno
    offset = node.col_offset
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if not text.isascii():
        offset = len(text.encode("utf-8")[:offset].decode("utf-8", "replace"))
    return line, offset + 1
