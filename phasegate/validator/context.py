"""What a rule sees: the loaded registry, its positions, and derived facts."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from phasegate.registry.loading import LoadedRegistry
from phasegate.registry.models import Mode, Registry, Transition
from phasegate.registry.semantics import effective_enablement
from phasegate.registry.yaml_loader import Position
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.suggest import NameIndex

if TYPE_CHECKING:
    from phasegate.validator.workspace import Workspace

PathKey = tuple[Hashable, ...]


@dataclass(frozen=True)
class Rule:
    """A rule's stable identity, shared by its checks, docs and SARIF output."""

    code: str
    name: str
    severity: Severity
    summary: str
    doc: str = ""  # the rule's documentation, with its failing and passing examples

    @classmethod
    def from_doc(cls, doc: str | None, severity: Severity) -> Rule:
        """A rule from its module docstring, which *is* its documentation (as in yamllint).

        The first paragraph is ``CODE name[ (warning)]: summary``; the rest is
        the prose and the examples docs/rules.md shows.
        """
        assert doc, "a rule module documents itself"
        head, _, body = doc.strip().partition("\n\n")
        match = re.fullmatch(r"(PG\d{3}) ([a-z-]+)( \(warning\))?: (.+)", " ".join(head.split()),
                             re.S)
        assert match, f"a rule docstring starts 'PGnnn name: summary', not {head[:60]!r}"
        assert bool(match.group(3)) == (severity is Severity.WARNING), match.group(1)
        summary = match.group(4)
        return cls(match.group(1), match.group(2), severity,
                   summary[0].upper() + summary[1:], body.strip())


@dataclass(frozen=True)
class NameUse:
    """One place where the registry names a processor or scraper."""

    name: str
    where: PathKey
    transition: str
    field: str  # expects, required, modes.<mode>.expects, modes.<mode>.required
    mode: str | None = None


@dataclass
class RuleContext:
    """Everything a rule needs; rules yield findings and do no I/O.

    ``workspace`` holds what was read outside the registry (sources,
    referenced files, generated artifacts) for the PG2xx rules; it is None
    when the registry itself is invalid.
    """

    loaded: LoadedRegistry
    workspace: Workspace | None = None

    @property
    def path(self) -> str:
        return self.loaded.path

    @property
    def registry(self) -> Registry:
        assert self.loaded.registry is not None, "semantic rules run only on a valid registry"
        return self.loaded.registry

    @cached_property
    def enabled(self) -> dict[str, bool]:
        return effective_enablement(self.registry)

    def at(self, where: PathKey, *, key: bool = False) -> Position:
        return self.loaded.positions.of(where, key=key)

    def report(
        self, rule: Rule, where: PathKey | Position, message: str, subject: str = "",
        *, key: bool = False,
    ) -> Finding:
        position = where if isinstance(where, Position) else self.at(where, key=key)
        return Finding(
            self.path, position.line, position.column, rule.code, rule.name, rule.severity,
            message, subject,
        )

    def report_file(
        self, rule: Rule, path: str, line: int, column: int, message: str, subject: str = "",
    ) -> Finding:
        """A finding in a file other than the registry."""
        return Finding(path, line, column, rule.code, rule.name, rule.severity, message, subject)

    def transitions(self) -> Iterator[tuple[str, Transition]]:
        yield from self.registry.transitions.items()

    def name_uses(self) -> Iterator[NameUse]:
        """Every explicit name in expects, required and modes, with its path."""
        for t_name, transition in self.transitions():
            base: PathKey = ("transitions", t_name)
            yield from _uses(transition.expects, (*base, "expects"), t_name, "expects")
            yield from _uses(transition.required, (*base, "required"), t_name, "required")
            for m_name, mode in transition.modes.items():
                m_base = (*base, "modes", m_name)
                yield from _uses(mode.expects, (*m_base, "expects"), t_name,
                                 f"modes.{m_name}.expects", m_name)
                yield from _uses(mode.required, (*m_base, "required"), t_name,
                                 f"modes.{m_name}.required", m_name)

    def modes_of(self, transition: Transition) -> Iterable[tuple[str | None, Mode | None]]:
        """The transition itself (None) and each of its modes."""
        yield None, None
        yield from transition.modes.items()


def _uses(
    names: object, where: PathKey, transition: str, field_name: str, mode: str | None = None
) -> Iterator[NameUse]:
    if isinstance(names, tuple):
        for index, name in enumerate(names):
            yield NameUse(name, (*where, index), transition, field_name, mode)


class Suggester:
    """Closest-name hints with bounded cost, however many candidates and findings.

    Names are ranked token by token (phasegate.validator.suggest): a large
    tree has tens of thousands of class names and a systemic mistake can
    produce thousands of findings. So the candidates are indexed by token
    once, on the first hint asked for; each hint scores at most ``pool``
    candidates sharing a token with the name; and only the first ``budget``
    findings get a hint. With ``canonical`` (an alias map), a hint names the
    canonical name of the closest candidate.
    """

    def __init__(
        self, candidates: Iterable[str], *, budget: int = 100, pool: int = 300,
        canonical: Mapping[str, str] | None = None,
    ) -> None:
        self._candidates: tuple[str, ...] | None = tuple(candidates)
        self._index: NameIndex | None = None
        self._budget = budget
        self._pool = pool
        self._canonical = dict(canonical or {})

    @property
    def index(self) -> NameIndex:
        """The candidates' token index, built when first needed."""
        if self._index is None:
            assert self._candidates is not None
            self._index = NameIndex(self._candidates, pool=self._pool)
            self._candidates = None
        return self._index

    def __call__(self, name: str) -> str:
        if self._budget <= 0:
            return ""
        self._budget -= 1
        best = self.index.best(name)
        if best is None:
            return ""
        return f"; did you mean {self._canonical.get(best, best)!r}?"


@dataclass
class SourceContext(RuleContext):
    """What a code or file rule (PG2xx) sees: the workspace was read, so it is never None."""

    workspace: Workspace
