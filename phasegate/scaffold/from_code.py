"""``phasegate init --from-code``: propose a registry from a repository's existing code.

A first registry written by hand starts far from the truth; one proposed from
the code starts close to it. Discovery is pure (text in, :class:`Discovery`
out) and, like the validator's scanner, uses ``ast`` and phasegate's own YAML
loader: the code is never imported or run. Everything proposed is a guess, so
every entry carries a ``# review:`` comment saying where it was found.

Reading is the only I/O (:func:`read_repository`): regular files inside DIR,
at most :data:`MAX_FILES` of them and :data:`MAX_FILE_BYTES` each; a symlink
that leaves DIR is never followed, ``.git`` is never entered, and a path given
outside DIR is a :class:`~phasegate.usage.UsageError` (exit 2).
"""

from __future__ import annotations

import ast
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from phasegate.registry.confine import Unsafe, inside, is_within, lexical_problem, read_regular
from phasegate.registry.constraints import NAME_PATTERN
from phasegate.registry.yaml_loader import LoadedDocument, PathKey, load_text
from phasegate.runtime import printable
from phasegate.usage import UsageError
from phasegate.validator.workspace import SKIP_DIRS

Kind = Literal["scraper", "processor"]

MAX_FILES = 20_000
"""Files read at most; a larger tree is cut (deterministically) with a warning."""
MAX_FILE_BYTES = 1024 * 1024
"""A larger source or config file is generated data, not code: skipped."""
MAX_SIGHTINGS = 5
"""``# review:`` lines of where an entry was found, at most; then how many more."""
PLACEHOLDER_PHASE = 2

PYTHON_SUFFIXES = (".py",)
CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
_NAME = re.compile(NAME_PATTERN)
_COLLECTION = re.compile(r"^[A-Za-z0-9_\-]+$")  # the schema's pattern for `collection:`
_SELECT_PART = re.compile(r"^[A-Za-z0-9_\-]+$")  # a key a dotted select can spell
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_PHASE_TOKEN = re.compile(r"^(?:phase|p)(\d{1,2})$")
_PHASE_IN_COLLECTION = re.compile(r"(?:phase|p)[_-]?(\d{1,2})(?!\d)", re.I)
_DIGITS = re.compile(r"(?<!\d)(\d{1,2})(?!\d)")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
# the phase names of the design's pipelines (scrapers feed phase 2's raw processors)
PHASE_WORDS = {"raw": 2, "analytics": 3, "precompute": 4, "prediction": 5, "predictions": 5}
_SUFFIX: dict[Kind, str] = {"processor": "Processor", "scraper": "Scraper"}
# classes that are machinery, not a processor or scraper of their own
_NOT_FIRST_WORDS = frozenset({"base", "abstract", "test", "tests", "fake", "mock", "stub",
                              "dummy"})
_NOT_LAST_WORDS = frozenset({"base", "mixin", "error", "exception", "config", "settings",
                             "factory", "registry", "result", "protocol", "interface", "test",
                             "tests"})
_CONTAINER_KEYS: dict[str, Kind] = {"scrapers": "scraper", "processors": "processor"}
_NAME_KEYS: dict[str, Kind] = {"scraper": "scraper", "scraper_name": "scraper",
                               "processor": "processor", "processor_name": "processor"}


# --- what discovery finds ------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Sighting:
    """Where something was found: the text of its ``# review:`` comment."""

    path: str
    line: int
    what: str  # "class GamebookProcessor", "a key under scrapers:", ...

    def __str__(self) -> str:
        return f"found as {self.what} in {printable(self.path)}:{self.line}"


@dataclass(frozen=True)
class FoundClass:
    kind: Kind
    name: str
    sighting: Sighting


@dataclass(frozen=True)
class FoundName:
    """A literal name: in a config file, or passed to a call."""

    kind: Kind
    value: str
    sighting: Sighting


@dataclass(frozen=True)
class FoundCall:
    """A function whose argument is a name: a ``references.calls`` entry."""

    function: str
    kind: Kind
    arg: int | None
    keyword: str | None
    sighting: Sighting

    def key(self) -> tuple[str, str, int, str]:
        return (self.function, self.kind, -1 if self.arg is None else self.arg,
                self.keyword or "")


@dataclass(frozen=True)
class FoundSelect:
    """Where a config file holds names: a ``references.files`` entry."""

    path: str
    select: str
    key: bool
    kind: Kind
    line: int
    under: str  # the key the names are under, for the review comment


@dataclass
class Discovery:
    """Everything found in some files; :meth:`add` merges another file's."""

    classes: list[FoundClass] = field(default_factory=list)
    bases: set[str] = field(default_factory=set)  # every name used as a base class
    names: list[FoundName] = field(default_factory=list)
    collections: list[tuple[str, Sighting]] = field(default_factory=list)
    calls: list[FoundCall] = field(default_factory=list)
    selects: list[FoundSelect] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files not read or not parsed, and why
    python_read: set[str] = field(default_factory=set)  # paths of the Python files read

    def add(self, other: Discovery) -> None:
        self.classes += other.classes
        self.bases |= other.bases
        self.names += other.names
        self.collections += other.collections
        self.calls += other.calls
        self.selects += other.selects
        self.skipped += other.skipped
        self.python_read |= other.python_read


# --- pure discovery --------------------------------------------------------------------------


def discover_python(path: str, text: str) -> Discovery:
    """Processor and scraper classes, names passed to calls, and Firestore collections."""
    found = Discovery(python_read={path})
    lowered = text.lower()
    if "processor" not in lowered and "scraper" not in lowered and "collection" not in lowered:
        return found  # nothing to find: no parse
    try:
        with warnings.catch_warnings():  # e.g. invalid escapes: the user's business, not init's
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        found.skipped.append(f"{printable(path)}:{error.lineno or 1}: does not parse "
                             f"({error.msg}); skipped")
        return found
    except (ValueError, RecursionError, MemoryError) as error:  # NUL bytes; hostile nesting
        reason = "too deeply nested to parse" if not isinstance(error, ValueError) else error
        found.skipped.append(f"{printable(path)}: {reason}; skipped")
        return found
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        found.skipped.append(f"{printable(path)}: too deeply nested to scan; skipped")
        return found
    for node in nodes:
        if isinstance(node, ast.ClassDef):
            bases = [name for base in node.bases if (name := _callee(base)) is not None]
            found.bases.update(bases)
            kind = _class_kind(node.name, bases)
            if kind is not None:
                found.classes.append(FoundClass(kind, node.name,
                                                Sighting(path, node.lineno, f"class {node.name}")))
        elif isinstance(node, ast.Call):
            _discover_call(node, path, found)
    return found


def _callee(node: ast.expr) -> str | None:
    """The name a call or base class is spelt with (an attribute's last part)."""
    while isinstance(node, ast.Subscript):  # Generic[T]-style bases
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _class_kind(name: str, bases: Sequence[str]) -> Kind | None:
    """``processor`` or ``scraper`` for a class that looks like one; None for machinery."""
    words = snake(name).split("_")
    if name.startswith("_") or words[0] in _NOT_FIRST_WORDS or words[-1] in _NOT_LAST_WORDS:
        return None
    for kind, suffix in _SUFFIX.items():
        if name.endswith(suffix) and name != suffix:
            return kind
    for kind, suffix in _SUFFIX.items():
        if any(suffix in base for base in bases):
            return kind
    return None


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _discover_call(node: ast.Call, path: str, found: Discovery) -> None:
    function = _callee(node.func)
    if function is None:
        return
    first = _string(node.args[0]) if node.args and not isinstance(
        node.args[0], ast.Starred) else None
    if function == "collection" and isinstance(node.func, ast.Attribute):
        if first is not None:
            found.collections.append(
                (first, Sighting(path, node.lineno, f'collection("{printable(first)}")')))
        return
    words = set(function.lower().split("_"))
    kinds: list[Kind] = [k for k in ("scraper", "processor") if k in words or f"{k}s" in words]
    own_kind = kinds[0] if len(kinds) == 1 else None
    where = Sighting(path, node.lineno, f"an argument of {function}()")
    if own_kind is not None and first is not None:
        found.names.append(FoundName(own_kind, first, where))
        found.calls.append(FoundCall(function, own_kind, 0, None, where))
    for keyword in node.keywords:
        value = _string(keyword.value)
        if keyword.arg is None or value is None:
            continue
        kind = _NAME_KEYS.get(keyword.arg) or (
            own_kind if own_kind is not None and keyword.arg == "name" else None)
        if kind is not None:
            found.names.append(FoundName(kind, value, where))
            found.calls.append(FoundCall(function, kind, None, keyword.arg, where))


def discover_config(path: str, text: str) -> Discovery:
    """Names under ``scrapers:``/``processors:`` keys, and ``processor_name:``-like values."""
    found = Discovery()
    lowered = text.lower()
    if "processor" not in lowered and "scraper" not in lowered:
        return found
    document = load_text(text, path)
    fatal = [problem for problem in document.problems if problem.kind == "syntax"]
    if fatal:
        problem = fatal[0]
        found.skipped.append(f"{printable(path)}:{problem.position.line}: "
                             f"{printable(problem.message)}; skipped")
        return found
    _walk_config(document, document.data, (), (), found)
    return found


ANY = object()
"""A select part matching every key: below a mapping whose keys are names."""


def _extend(select: tuple[str, ...] | None, part: object) -> tuple[str, ...] | None:
    """The select path one level down; None once a key cannot be spelt in a dotted select.

    A list index becomes ``*`` (every item), as does :data:`ANY` (every key).
    """
    if select is None:
        return None
    if part is ANY or (isinstance(part, int) and not isinstance(part, bool)):
        return (*select, "*")
    if isinstance(part, str) and _SELECT_PART.match(part):
        return (*select, part)
    return None


def _walk_config(document: LoadedDocument, node: object, at: PathKey,
                 select: tuple[str, ...] | None, found: Discovery) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk_config(document, item, (*at, index), _extend(select, index), found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if not isinstance(key, str):
            continue
        here = _extend(select, key)
        container = _CONTAINER_KEYS.get(key.lower())
        single = _NAME_KEYS.get(key.lower())
        if container is not None and isinstance(value, dict | list):
            _container(document, key, value, container, (*at, key), here, found)
        elif single is not None and isinstance(value, str):
            line = document.positions.of((*at, key)).line
            _record(found, document.path, [(value, line)], single, here, False, f"{key}:")
        else:
            _walk_config(document, value, (*at, key), here, found)


def _container(document: LoadedDocument, key: str, value: dict[object, object] | list[object],
               kind: Kind, at: PathKey, here: tuple[str, ...] | None, found: Discovery) -> None:
    """Names held by a ``scrapers:``/``processors:`` mapping (its keys) or list."""
    positions = document.positions
    if isinstance(value, dict):
        keys = [(name, positions.of((*at, name), key=True).line)
                for name in value if isinstance(name, str)]
        _record(found, document.path, keys, kind, _extend(here, ANY), True,
                f"a key under {key}:")
        for name, item in value.items():  # the names are keys: below them, any key matches
            _walk_config(document, item, (*at, name), _extend(here, ANY), found)
        return
    strings = [(item, positions.of((*at, index)).line)
               for index, item in enumerate(value) if isinstance(item, str)]
    _record(found, document.path, strings, kind, here, False, f"an item of {key}:")
    named = [(item["name"], positions.of((*at, index, "name")).line)
             for index, item in enumerate(value)
             if isinstance(item, dict) and isinstance(item.get("name"), str)]
    _record(found, document.path, named, kind, _extend(_extend(here, ANY), "name"), False,
            f"a name in {key}:")
    for index, item in enumerate(value):
        if isinstance(item, dict):
            rest = {k: v for k, v in item.items() if k != "name"}
            _walk_config(document, rest, (*at, index), _extend(here, ANY), found)


def _record(found: Discovery, path: str, names: list[tuple[str, int]], kind: Kind,
            select: tuple[str, ...] | None, key: bool, what: str) -> None:
    for value, line in names:
        found.names.append(FoundName(kind, value, Sighting(path, line, what)))
    lines = [line for value, line in names if _NAME.match(value)]
    if lines and select is not None:
        under = what.rsplit(" ", 1)[-1]
        found.selects.append(FoundSelect(path, ".".join(select), key, kind, min(lines), under))


# --- names and phases ----------------------------------------------------------------------


def snake(text: str) -> str:
    """``NbacGamebook`` as ``nbac_gamebook`` (acronyms and digits kept together)."""
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", text).lower()).strip("_")


def _valid(name: str) -> bool:
    return bool(_NAME.match(name))


def _phase_hint(words: Sequence[str]) -> tuple[int, str] | None:
    """(phase, the word that says so) from words such as ``phase2``, ``p3`` or ``raw``."""
    for index, word in enumerate(words):
        match = _PHASE_TOKEN.match(word)
        if match and int(match.group(1)) >= 1:
            return int(match.group(1)), word
        if word == "phase" and index + 1 < len(words) and words[index + 1].isdigit():
            number = int(words[index + 1])
            if 1 <= number <= 99:
                return number, f"phase_{words[index + 1]}"
        if word in PHASE_WORDS:
            return PHASE_WORDS[word], word
    return None


def _phase_of_class(name: str, path: str) -> tuple[int, str] | None:
    """The class name first, then its module's name, then its folders from the nearest."""
    parts = PurePosixPath(path).parts
    places = [(name, "its class name"), (PurePosixPath(path).stem, printable(path))]
    places += [(part, "/".join(parts[:index + 1]))
               for index, part in reversed(list(enumerate(parts[:-1])))]
    for text, where in places:
        hint = _phase_hint(snake(text).split("_"))
        if hint is not None:
            return hint[0], f'"{hint[1]}" in {where}'
    return None


def _phase_of_collection(name: str) -> int | None:
    match = _PHASE_IN_COLLECTION.search(name) or _DIGITS.search(name)
    number = int(match.group(1)) if match else 0
    return number if number >= 1 else None


# --- proposals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One proposed entry: its review notes and its YAML lines (relative to its key)."""

    name: str
    notes: tuple[str, ...]
    body: tuple[str, ...]
    active: bool = True


@dataclass
class Proposal:
    scrapers: list[Entry] = field(default_factory=list)
    processors: list[Entry] = field(default_factory=list)
    transitions: list[Entry] = field(default_factory=list)
    other_collections: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (flow mapping, review note)
    calls: list[tuple[str, str]] = field(default_factory=list)
    not_names: list[str] = field(default_factory=list)  # literals that are no registry name
    sources: tuple[str, ...] = ()
    files_read: int = 0

    @property
    def empty(self) -> bool:
        return not (self.scrapers or self.processors or self.transitions
                    or self.other_collections)

    def names(self) -> list[str]:
        """Every active proposed name: an existing registry that has them all needs nothing."""
        return [e.name for e in (*self.scrapers, *self.processors, *self.transitions)
                if e.active]


@dataclass
class _Draft:
    sightings: list[Sighting] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)
    hints: list[tuple[int, str]] = field(default_factory=list)


def propose(found: Discovery, code: Sequence[str], sources: Sequence[str] = (),
            files_read: int = 0) -> Proposal:
    """The registry entries ``found`` suggests, sorted, each with its review notes."""
    proposal = Proposal(sources=tuple(sources), files_read=files_read, code=sorted(set(code)))
    classes = sorted((c for c in found.classes if c.name not in found.bases),
                     key=lambda c: (c.name, c.sighting))
    names = sorted(found.names, key=lambda n: (n.value, n.sighting))
    for name in names:
        if not _valid(name.value):
            proposal.not_names.append(
                f"{json.dumps(printable(name.value))} ({printable(name.sighting.path)}:"
                f"{name.sighting.line})")
    names = [n for n in names if _valid(n.value)]
    scrapers = _scrapers(classes, names, proposal)
    processors = _processors(classes, names, set(scrapers), proposal)
    proposal.scrapers = [Entry(name, _sighting_notes(sightings), ("enabled: true",))
                         for name, sightings in sorted(scrapers.items())]
    proposal.processors = [_processor_entry(name, draft)
                           for name, draft in sorted(processors.items())]
    phases = {_phase_of_draft(draft)[0] for draft in processors.values()}
    _transitions(found.collections, phases, proposal)
    _references(found, proposal)
    return proposal


def _scrapers(classes: list[FoundClass], names: list[FoundName],
              proposal: Proposal) -> dict[str, list[Sighting]]:
    """Scraper name -> where found; a class is named in snake_case unless code spells it."""
    literal = {n.value for n in names if n.kind == "scraper"}
    scrapers: dict[str, list[Sighting]] = {}
    for found in (c for c in classes if c.kind == "scraper"):
        name = found.name if found.name in literal else snake(found.name.removesuffix("Scraper"))
        if not _valid(name):
            proposal.not_names.append(f"class {found.name} ({found.sighting.path}:"
                                      f"{found.sighting.line})")
            continue
        scrapers.setdefault(name, []).append(found.sighting)
    for found_name in (n for n in names if n.kind == "scraper"):
        scrapers.setdefault(found_name.value, []).append(found_name.sighting)
    return scrapers


def _processors(classes: list[FoundClass], names: list[FoundName], scrapers: set[str],
                proposal: Proposal) -> dict[str, _Draft]:
    """Processor name -> draft; class names become aliases, literal names are kept as spelt."""
    drafts: dict[str, _Draft] = {}
    owner: dict[str, str] = {}  # every name or alias -> its processor

    def add(name: str, alias: str | None, sighting: Sighting,
            hint: tuple[int, str] | None) -> None:
        draft = drafts.setdefault(name, _Draft())
        owner.setdefault(name, name)
        if alias is not None and alias != name and alias not in drafts:
            draft.aliases.add(alias)
            owner.setdefault(alias, name)
        draft.sightings.append(sighting)
        if hint is not None:
            draft.hints.append(hint)

    def name_for(class_name: str, hint: tuple[int, str] | None) -> str:
        name = snake(class_name.removesuffix("Processor"))
        if name in scrapers:  # a raw processor is often named like its scraper
            name = f"p{hint[0] if hint else PLACEHOLDER_PHASE}_{name}"
        return name

    for found in (c for c in classes if c.kind == "processor"):
        hint = _phase_of_class(found.name, found.sighting.path)
        name = owner.get(found.name) or name_for(found.name, hint)
        if not _valid(name):
            proposal.not_names.append(f"class {found.name} ({found.sighting.path}:"
                                      f"{found.sighting.line})")
            continue
        add(name, found.name, found.sighting, hint)
    for found_name in (n for n in names if n.kind == "processor"):
        value = found_name.value
        words_hint = _phase_hint(snake(value).split("_"))
        hint = (words_hint[0], f'"{words_hint[1]}" in the name') if words_hint else None
        if value in owner:
            add(owner[value], None, found_name.sighting, None)
        elif value.endswith("Processor") and value[:1].isupper() and value != "Processor":
            add(name_for(value, hint), value, found_name.sighting, hint)
        else:
            add(value, None, found_name.sighting, hint)
    for name, draft in drafts.items():  # PG104: an alias never names another processor
        draft.aliases = {a for a in draft.aliases if a not in drafts or a == name}
    return drafts


def _phase_of_draft(draft: _Draft) -> tuple[int, str | None]:
    return draft.hints[0] if draft.hints else (PLACEHOLDER_PHASE, None)


def _processor_entry(name: str, draft: _Draft) -> Entry:
    phase, reason = _phase_of_draft(draft)
    notes = list(_sighting_notes(draft.sightings))
    if reason is None:
        notes.append(f"phase {phase} is a placeholder: nothing in its name or path says "
                     "which phase")
    else:
        notes.append(f"phase {phase} from {reason}")
    others = sorted({hint for hint, _ in draft.hints} - {phase})
    if others:
        notes.append(f"other places suggest phase {', '.join(map(str, others))}")
    body = [f"phase: {phase}"]
    if draft.aliases:
        body.append(f"aliases: [{', '.join(_scalar(a) for a in sorted(draft.aliases))}]")
    return Entry(name, tuple(notes), tuple(body))


def _sighting_notes(sightings: Iterable[Sighting]) -> tuple[str, ...]:
    unique = sorted(set(sightings))
    notes = [str(s) for s in unique[:MAX_SIGHTINGS]]
    if len(unique) > MAX_SIGHTINGS:
        notes.append(f"... and {len(unique) - MAX_SIGHTINGS} more place(s)")
    return tuple(notes)


def _transitions(collections: list[tuple[str, Sighting]], phases: set[int],
                 proposal: Proposal) -> None:
    """One transition per collection that names a phase; the others are only listed."""
    seen: dict[str, list[Sighting]] = {}
    for name, sighting in collections:
        if _COLLECTION.match(name):
            seen.setdefault(name, []).append(sighting)
        else:
            proposal.not_names.append(f"collection {json.dumps(printable(name))} "
                                      f"({printable(sighting.path)}:{sighting.line})")
    by_phase: dict[int, list[str]] = {}
    for name in sorted(seen):
        phase = _phase_of_collection(name)
        if phase is None:
            first = min(seen[name])
            proposal.other_collections.append(
                f"{name} ({printable(first.path)}:{first.line})")
        else:
            by_phase.setdefault(phase, []).append(name)
    taken: set[str] = set()
    for phase, names in sorted(by_phase.items()):
        for collection in names:
            name = f"phase{phase}_to_phase{phase + 1}"
            if len(names) > 1 or name in taken:
                name = re.sub(r"[^A-Za-z0-9_]", "_", collection)
                name = name if name[:1].isalpha() else f"t_{name}"
            while name in taken:
                name = f"{name}_"
            taken.add(name)
            active = phase in phases
            notes = [*_sighting_notes(seen[collection]),
                     f"from_phase {phase} from the collection's name; to_phase {phase + 1} "
                     "assumed"]
            if not active:
                notes.append(f"commented out: no proposed processor has phase {phase}, so "
                             "`expects: all` would expect nothing (PG106)")
            body = (f"from_phase: {phase}", f"to_phase: {phase + 1}",
                    f"collection: {_scalar(collection)}",
                    "action: monitor                     # monitor: record and alert only; "
                    "trigger: also fire",
                    "expects: all                        # every enabled per-run-key "
                    "processor of from_phase",
                    "deadline_minutes: 240", "grace_minutes: 30")
            proposal.transitions.append(Entry(name, tuple(notes), body, active))


def _references(found: Discovery, proposal: Proposal) -> None:
    selects: dict[tuple[str, str, bool, str], FoundSelect] = {}
    for select in found.selects:
        same = (select.path, select.select, select.key, select.kind)
        if same not in selects or select.line < selects[same].line:
            selects[same] = select
    for (path, select_path, keyed_by_name, kind), select in sorted(selects.items()):
        keyed = ", key: true" if keyed_by_name else ""
        proposal.files.append((
            f"{{path: {json.dumps(path)}, select: {json.dumps(select_path)}{keyed}, "
            f"kind: {kind}}}",
            f"{kind} names found under {select.under} in {printable(path)}:{select.line}"))
    calls: dict[tuple[str, str, int, str], FoundCall] = {}
    for call in found.calls:
        if call.key() not in calls or call.sighting < calls[call.key()].sighting:
            calls[call.key()] = call
    for _, call in sorted(calls.items()):
        place = f"arg: {call.arg}" if call.arg is not None else f"keyword: {call.keyword}"
        proposal.calls.append((
            f"{{function: {_scalar(call.function)}, {place}, kind: {call.kind}}}",
            f"{call.kind} names found as {call.sighting.what} in "
            f"{printable(call.sighting.path)}:{call.sighting.line}"))


# --- rendering -------------------------------------------------------------------------------


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: quoted when YAML 1.1 would read it as a boolean or null."""
    return json.dumps(text) if text.lower() in _YAML_WORDS or not _NAME.match(text) else text


def _entries(key: str, entries: Sequence[Entry], extra: Sequence[str] = ()) -> list[str]:
    lines = [f"{key}:" if any(e.active for e in entries) else f"{key}: {{}}"]
    for entry in entries:
        lines += [f"  # review: {note}" for note in entry.notes]
        prefix = "  " if entry.active else "  # "
        lines.append(f"{prefix}{_scalar(entry.name)}:")
        lines += [f"{prefix}  {line}" for line in entry.body]
    lines += extra
    return lines


def render_sections(proposal: Proposal) -> dict[str, str]:
    """The proposed ``scrapers``, ``processors``, ``transitions`` and ``references`` blocks."""
    other = []
    if proposal.other_collections:
        other = ["  # review: other Firestore collections found, not proposed as transitions "
                 "(no phase in their name):"]
        other += [f"  #   {text}" for text in proposal.other_collections]
    references = ["# Where else names live; `phasegate validate` checks them too.",
                  "references:"]
    if proposal.code:
        references += ["  # review: the code given to --from-code, scanned for names",
                       "  code:"]
        references += [f"    - {json.dumps(path)}" for path in proposal.code]
    for key, items in (("files", proposal.files), ("calls", proposal.calls)):
        if items:
            references.append(f"  {key}:")
            for text, note in items:
                references += [f"    # review: {note}", f"    - {text}"]
    return {
        "scrapers": "\n".join([
            "# Data sources at the head of the pipeline. Disabling one takes every",
            "# processor that needs it out of every expected set.",
            *_entries("scrapers", proposal.scrapers)]),
        "processors": "\n".join([
            "# Processors report completion, under their name or an alias, to the",
            "# orchestrator of the transition that leaves their phase. Add each one's",
            "# `inputs:` (the scrapers or processors it needs): the code does not say.",
            *_entries("processors", proposal.processors)]),
        "transitions": "\n".join([
            "# Gates between phases: which processors must finish, per run key, first.",
            *_entries("transitions", proposal.transitions, other)]),
        "references": "\n".join(references if len(references) > 2 else [
            *references[:1], "# references:", "#   code: [src]"]),
    }


def render_registry(starter: str, proposal: Proposal) -> str:
    """The starter registry with its example entries replaced by the proposals.

    The starter is cut into its top-level blocks (comments, then one key and
    its body); the scrapers, processors, transitions and references blocks are
    replaced and everything else (canary, deploy, generate) is kept as is.
    """
    sections = render_sections(proposal)
    blocks = _blocks(starter)
    keys = [_block_key(block) for block in blocks]
    missing = [key for key in ("version", *sections) if key not in keys]
    if missing:
        raise UsageError(f"internal error: the starter registry has no {missing[0]!r} block; "
                         "cannot place the proposals")
    shown = ", ".join(printable(s) for s in proposal.sources) or "the code"
    note = "\n".join([
        "#",
        f"# Proposed from {shown} by `phasegate init --from-code`: every entry",
        "# marked `# review:` is a guess, with where it was found. Confirm or fix",
        "# each one, then delete its review comments.",
    ])
    out = []
    for block, key in zip(blocks, keys, strict=True):
        if key in sections:
            out.append(sections[key])
        elif key == "version":
            block = block.replace(
                "`phasegate init` wrote it as a starting point: replace\n"
                "# the example names with your pipeline's own.",
                "`phasegate init --from-code` proposed its entries.")
            head, version, rest = block.partition("\nversion:")
            out.append(f"{head}\n{note}{version}{rest}" if version else block)
        else:
            out.append(block)
    return "\n\n".join(out)


def render_additions(proposal: Proposal) -> str:
    """What to add to an existing registry: the proposed blocks, for a person to merge."""
    sections = render_sections(proposal)
    return "\n\n".join(sections[key] for key in ("scrapers", "processors", "transitions",
                                                "references")) + "\n"


def _blocks(text: str) -> list[str]:
    """Top-level blocks: paragraphs, a blank line inside an indented body kept inside."""
    blocks: list[str] = []
    for paragraph in text.split("\n\n"):
        if blocks and paragraph[:1] in (" ", ""):
            blocks[-1] += "\n\n" + paragraph
        else:
            blocks.append(paragraph)
    return blocks


def _block_key(block: str) -> str | None:
    """A block's top-level key, or the key it shows commented out (``# references:``)."""
    match = re.search(r"^([a-z_]+):", block, re.M) or re.search(r"^# ([a-z_]+):$", block, re.M)
    return match.group(1) if match else None


# --- reading (the only I/O) ------------------------------------------------------------------


@dataclass
class Sources:
    """The ``--from-code`` paths, confined: as shown (relative to DIR) and resolved."""

    shown: list[str]
    resolved: list[Path]


def check_sources(root: Path, directory: Path, declared: Sequence[str]) -> Sources:
    """Each ``--from-code`` path inside DIR (relative to it, or absolute inside it).

    Raises :class:`UsageError` for a path outside DIR (also through a
    symlink), inside ``.git``, or one that does not exist.
    """
    sources = Sources([], [])
    for path in declared:
        relative = path
        if os.path.isabs(path):
            try:
                real = Path(path).resolve()
            except (OSError, RuntimeError) as error:
                raise UsageError(f"--from-code {path!r}: cannot resolve: {error}") from error
            if not is_within(real, root):
                raise UsageError(f"--from-code {path!r} is outside {directory}; the code to "
                                 "propose from must be inside DIR")
            relative = real.relative_to(root).as_posix() or "."
        problem = lexical_problem(relative)
        if problem:
            problem = problem.replace("the repository root", "DIR")
            raise UsageError(f"--from-code {path!r} {problem}; the code to propose from must "
                             "be inside DIR")
        try:
            target = inside(root, relative)
        except Unsafe as error:
            raise UsageError(f"--from-code: {error}") from error
        if not target.exists():
            raise UsageError(f"--from-code {path!r}: no such file or folder in {directory}")
        if target.is_file() and not target.name.endswith(PYTHON_SUFFIXES + CONFIG_SUFFIXES):
            raise UsageError(f"--from-code {path!r}: not a Python, YAML or JSON file, nor a "
                             "folder")
        shown = target.relative_to(root).as_posix() or "."
        if shown not in sources.shown:
            sources.shown.append(shown)
            sources.resolved.append(target)
    return sources


def read_repository(root: Path, sources: Sources, own: frozenset[str]) -> tuple[Discovery, int]:
    """Discover in every Python, YAML and JSON file of ``sources``; (discovery, files read).

    ``own`` are the files ``init`` itself writes (a re-run never proposes
    from its own registry or artifacts).
    """
    found = Discovery()
    read = 0
    for relative in _files(root, sources, own, found):
        if read >= MAX_FILES:
            found.skipped.append(f"stopped after {MAX_FILES:,} files; give --from-code "
                                 "narrower paths to read the rest")
            break
        try:
            text = read_regular(root / relative, MAX_FILE_BYTES).decode("utf-8-sig")
        except Unsafe as error:
            found.skipped.append(f"{printable(relative)}: {str(error).rsplit(': ', 1)[-1]}; "
                                 "skipped")
            continue
        except UnicodeDecodeError:
            found.skipped.append(f"{printable(relative)}: not UTF-8 text; skipped")
            continue
        read += 1
        if relative.endswith(PYTHON_SUFFIXES):
            found.add(discover_python(relative, text))
        else:
            found.add(discover_config(relative, text))
    return found, read


def _files(root: Path, sources: Sources, own: frozenset[str],
           found: Discovery) -> Iterator[str]:
    """Each file to read once, relative to DIR under its real path, in a stable order."""
    seen: set[str] = set()
    for target in sources.resolved:
        for path in _walk(target):
            shown = path.relative_to(root).as_posix() if is_within(path, root) else str(path)
            try:
                real = path.resolve()
            except (OSError, RuntimeError):
                found.skipped.append(f"{printable(shown)}: cannot be resolved (a symlink "
                                     "loop?); not read")
                continue
            if not is_within(real, root):
                found.skipped.append(f"{printable(shown)}: a symlink that leaves DIR; not read")
                continue
            relative = real.relative_to(root).as_posix()
            if any(part.lower() == ".git" for part in PurePosixPath(relative).parts):
                found.skipped.append(f"{printable(shown)}: leads into .git; not read")
                continue
            if not relative.isprintable():
                found.skipped.append(f"{printable(shown)}: a control character in its name; "
                                     "not read")
                continue
            if relative in own or relative in seen:
                continue
            seen.add(relative)
            yield relative


def _walk(target: Path) -> Iterator[Path]:
    """Files with a known suffix under ``target`` (or ``target`` itself), sorted."""
    if not target.is_dir():
        yield target
        return
    for directory, subdirs, names in os.walk(target):  # folder symlinks are not followed
        subdirs[:] = sorted(d for d in subdirs
                            if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(names):
            if name.endswith(PYTHON_SUFFIXES + CONFIG_SUFFIXES):
                yield Path(directory) / name


def proposal_from_code(root: Path, directory: Path, declared: Sequence[str],
                       own: frozenset[str]) -> tuple[Proposal, list[str]]:
    """The proposal for ``--from-code`` paths, and the warnings about what was skipped."""
    sources = check_sources(root, directory, declared)
    found, read = read_repository(root, sources, own)
    code = [shown for shown in sources.shown  # what `phasegate validate` should scan
            if any(shown in (".", path) or path.startswith(f"{shown}/")
                   for path in found.python_read)]
    return propose(found, code, sources.shown, read), found.skipped


def summary(proposal: Proposal, registry: str, outcome: str) -> list[str]:
    """What ``init --from-code`` says last: counts per kind, and what to do next.

    ``outcome`` is what became of the registry: ``written``, ``printed`` (it
    exists; the proposals were printed to add by hand) or ``present`` (it
    exists and already names every proposed entry).
    """
    shown = ", ".join(printable(s) for s in proposal.sources)
    if proposal.empty:
        where = ("wrote the starter registry with its example names" if outcome == "written"
                 else f"kept {registry} (exists)")
        return [f"found nothing to propose in {shown} ({proposal.files_read} file(s) read); "
                f"{where}"]
    inactive = sum(not t.active for t in proposal.transitions)
    transitions = f"{len(proposal.transitions) - inactive} transition(s)" + (
        f" (and {inactive} commented out)" if inactive else "")
    lines = [
        f"proposed from {shown} ({proposal.files_read} file(s) read): "
        f"{len(proposal.processors)} processor(s), {len(proposal.scrapers)} scraper(s), "
        f"{transitions}, {len(proposal.code)} references.code, "
        f"{len(proposal.files)} references.files, {len(proposal.calls)} references.calls"]
    if proposal.other_collections:
        lines.append(f"listed {len(proposal.other_collections)} other Firestore collection(s) "
                     "that name no phase, in a comment")
    if proposal.not_names:
        lines.append(f"skipped {len(proposal.not_names)} name(s) that are not registry names: "
                     + ", ".join(proposal.not_names[:5])
                     + (", ..." if len(proposal.not_names) > 5 else ""))
    if outcome == "written":
        lines.append(f"every entry is marked `# review:` in {registry}: confirm or fix each "
                     "one, then run `phasegate validate`")
    elif outcome == "printed":
        lines.append(f"{registry} exists, so nothing was written to it; every entry printed "
                     "above is marked `# review:`: add the ones you confirm")
    else:
        lines.append(f"{registry} exists and already names every proposed entry; nothing "
                     "to add")
    return lines
