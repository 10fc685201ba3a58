"""``validate --baseline FILE``: accept the drift a repository already has, fail on new drift.

An entry is rule + path + subject + a fingerprint of the offending line's
text (not its number), so an entry survives lines moving above it. Only
findings in code and referenced files (PG2xx, not PG201: the same set that
an inline suppression may silence) can be baselined; the registry's own
findings and a stale generated artifact never can.

The file (``version`` 1, entries sorted, two-space JSON, a trailing newline)::

    {
      "version": 1,
      "entries": [
        {"rule": "PG202", "path": "monitoring/check_phase2.py",
         "subject": "p2_nbacom_gamebook_pdf", "fingerprint": "7f02e13fd9bfa585"}
      ]
    }

Matching (:func:`match`) is pure; reading and writing the file and reading
the lines a fingerprint is taken from are the I/O edge below it. The file
and every line are read bounded and confined to the root, and a baseline
that cannot be read or parsed is a :class:`UsageError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from phasegate.registry.confine import Unsafe, inside, is_within, read_regular
from phasegate.usage import UsageError
from phasegate.validator.findings import Finding
from phasegate.validator.suppression import suppressible

VERSION = 1
MAX_BYTES = 4 * 1024 * 1024
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_FIELDS = ("rule", "path", "subject", "fingerprint")


@dataclass(frozen=True, order=True)
class Entry:
    """One accepted finding: which rule, in which file, about what, on which line text."""

    rule: str
    path: str
    subject: str
    fingerprint: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "path": self.path, "subject": self.subject,
                "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class Outcome:
    """Findings split by the baseline: ``new`` fail as usual, ``matched`` are accepted,
    ``fixed`` are entries that match no finding any more (the file can shrink)."""

    new: tuple[Finding, ...]
    matched: tuple[Finding, ...]
    fixed: tuple[Entry, ...]


def baselinable(finding: Finding) -> bool:
    return suppressible(finding.rule)


def fingerprint(line_text: str) -> str:
    """The first 16 hex digits of the sha256 of the line with its whitespace normalised."""
    return hashlib.sha256(" ".join(line_text.split()).encode("utf-8")).hexdigest()[:16]


def entry_for(finding: Finding, line_text: str) -> Entry:
    return Entry(finding.rule, finding.path, finding.subject, fingerprint(line_text))


def match(findings: Sequence[Finding], lines: dict[tuple[str, int], str],
          entries: Iterable[Entry]) -> Outcome:
    """Split ``findings`` by ``entries``; ``lines`` holds each baselinable finding's line text.

    Entries are a multiset: two accepted findings on identical lines need two
    entries, and a third such finding is new.
    """
    available = Counter(entries)
    new: list[Finding] = []
    matched: list[Finding] = []
    for finding in findings:
        if baselinable(finding):
            entry = entry_for(finding, lines.get((finding.path, finding.line), ""))
            if available[entry] > 0:
                available[entry] -= 1
                matched.append(finding)
                continue
        new.append(finding)
    fixed = sorted(available.elements())
    return Outcome(tuple(new), tuple(matched), tuple(fixed))


def entries_for(findings: Sequence[Finding], lines: dict[tuple[str, int], str]) -> list[Entry]:
    """The baseline that accepts every baselinable finding, sorted."""
    return sorted(entry_for(f, lines.get((f.path, f.line), "")) for f in findings
                  if baselinable(f))


def render(entries: Iterable[Entry]) -> str:
    document = {"version": VERSION, "entries": [e.as_json() for e in sorted(entries)]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def parse(text: str) -> list[Entry]:
    """The entries of a baseline file's text; ValueError saying what is wrong."""
    try:
        document = json.loads(text)
    except RecursionError as error:
        raise ValueError("nested too deeply") from error
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise ValueError(f"not a phasegate baseline (want an object with \"version\": {VERSION})")
    raw = document.get("entries")
    if not isinstance(raw, list):
        raise ValueError("\"entries\" is not a list")
    entries = []
    for index, item in enumerate(raw):
        if (not isinstance(item, dict) or set(item) != set(_FIELDS)
                or not all(isinstance(item[k], str) for k in _FIELDS)):
            raise ValueError(f"entry {index} is not an object with exactly the string fields "
                             + ", ".join(_FIELDS))
        if not _FINGERPRINT.fullmatch(item["fingerprint"]):
            raise ValueError(f"entry {index}: fingerprint is not 16 lowercase hex digits")
        entries.append(Entry(item["rule"], item["path"], item["subject"], item["fingerprint"]))
    return entries


# ---- I/O: the file and the lines, confined to the root -------------------------------------


def confined(path: Path, root: Path) -> tuple[Path, str]:
    """The baseline's real path and its name relative to the root; UsageError if outside it.

    A relative ``path`` is taken from the current directory, as ``--registry``
    is; wherever it is named from, it must lie inside the root, and it is
    refused like a PG113 path when it leaves the root through a symlink or
    lies in ``.git``.
    """
    absolute = Path(os.path.abspath(path))
    for base in (Path(os.path.abspath(root)), root.resolve()):
        if is_within(absolute, base) and absolute != base:
            relative = absolute.relative_to(base).as_posix()
            break
    else:
        raise UsageError(f"--baseline {path}: outside the repository root {root}; not used")
    try:
        return inside(root, relative), relative
    except Unsafe as error:
        raise UsageError(f"--baseline {path}: {error}; not used") from error


def load(path: Path, root: Path) -> list[Entry]:
    """The entries of the baseline at ``path``; UsageError (one line, the file) if unusable."""
    target, shown = confined(path, root)
    try:
        text = read_regular(target, MAX_BYTES).decode("utf-8")
        return parse(text)
    except Unsafe as error:
        reason = str(error).removeprefix(f"{target}: ")
        raise UsageError(f"{shown}: baseline unreadable: {reason} "
                         "(write one with --update-baseline)") from error
    except UnicodeDecodeError as error:
        raise UsageError(f"{shown}: baseline is not UTF-8 text ({error.reason})") from error
    except ValueError as error:  # json.JSONDecodeError too
        message = " ".join(str(error).split())
        raise UsageError(f"{shown}: malformed baseline: {message}") from error


def write(path: Path, root: Path, entries: Iterable[Entry]) -> str:
    """Write the baseline atomically; return its name relative to the root."""
    import tempfile  # only --update-baseline needs it

    target, shown = confined(path, root)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".baseline-",
                                             suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(render(entries))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise UsageError(f"{shown}: cannot write the baseline: "
                         f"{error.strerror or error}") from error
    return shown


def line_texts(root: Path, findings: Iterable[Finding]) -> dict[tuple[str, int], str]:
    """The text of each baselinable finding's line, read bounded and confined to the root.

    A file that cannot be read safely (it left the root, is not regular, is
    too large or not UTF-8) gives empty lines: its findings still match by
    rule, path and subject.
    """
    wanted: dict[str, set[int]] = {}
    for finding in findings:
        if baselinable(finding):
            wanted.setdefault(finding.path, set()).add(finding.line)
    lines: dict[tuple[str, int], str] = {}
    for relative, numbers in wanted.items():
        try:
            text = read_regular(inside(root, relative)).decode("utf-8")
        except (Unsafe, UnicodeDecodeError):
            continue
        file_lines = text.splitlines()
        for number in numbers:
            if 1 <= number <= len(file_lines):
                lines[(relative, number)] = file_lines[number - 1]
    return lines
