"""The names the source scanner looks for, derived once from the registry.

Plain frozen data, so it crosses into worker processes cheaply.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from phasegate.registry.models import CallReference, Registry
from phasegate.registry.semantics import (
    alias_map,
    describe_causes,
    disabled_causes,
    effective_enablement,
)

_PHASE_PREFIX = re.compile(r"^([a-z]{1,4}\d+_)")
_CLASS_LIKE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_LAST_WORD = re.compile(r"([A-Z][a-z0-9]+)$")
_DOTTED_WORD = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_MAX_PARTS = 4  # a name inside a longer dotted word: project.dataset.table at most


@dataclass(frozen=True)
class Vocabulary:
    processors: frozenset[str]
    scrapers: frozenset[str]
    # every name of a processor (canonical, aliases and outputs) -> canonical
    aliases: dict[str, str]
    disabled: dict[str, str]  # disabled scraper/processor/alias -> why
    prefixes: tuple[str, ...]  # naming conventions such as "p2_"
    alias_suffixes: tuple[str, ...]  # such as "Processor"
    class_like_aliases: frozenset[str]
    calls: tuple[CallReference, ...] = ()  # functions whose arguments are names
    # names distinctive enough to find inside longer strings (SQL, messages, paths):
    # they hold an underscore; and the dotted parts of them that do, for a cheap pre-check
    embedded: frozenset[str] = frozenset()
    embedded_words: frozenset[str] = frozenset()

    def is_registry_name(self, token: str) -> bool:
        return token in self.aliases or token in self.scrapers

    def is_name_of(self, token: str, kind: str) -> bool:
        """A name of a processor (``kind`` "processor") or a scraper."""
        return token in (self.aliases if kind == "processor" else self.scrapers)

    def looks_like_processor(self, token: str) -> bool:
        """Shaped like a registry name by its conventions, known or not."""
        if token.startswith(self.prefixes) and len(token) > len(token.split("_", 1)[0]) + 1:
            return True
        return bool(
            self.alias_suffixes and token[:1].isupper() and token.endswith(self.alias_suffixes)
            and token not in self.alias_suffixes and _CLASS_LIKE.match(token)
        )

    def mentions(self, text: str) -> list[str]:
        """Registry names inside ``text`` at word boundaries, longest first at each place.

        ``"SELECT * FROM proj.nba_raw.bdl_boxes WHERE x"`` mentions
        ``nba_raw.bdl_boxes``; ``"nba_raw.bdl_boxes_v2"`` mentions nothing, since
        ``_`` is part of a word.
        """
        found: list[str] = []
        for match in _DOTTED_WORD.finditer(text):
            parts = match.group().split(".")
            start = 0
            while start < len(parts):
                for end in range(min(len(parts), start + _MAX_PARTS), start, -1):
                    candidate = ".".join(parts[start:end])
                    if candidate in self.embedded:
                        found.append(candidate)
                        start = end - 1
                        break
                start += 1
        return found

    def interesting(self, token: str) -> bool:
        return (token in self.aliases or token in self.scrapers or token in self.disabled
                or self.looks_like_processor(token))


def build_vocabulary(registry: Registry) -> Vocabulary:
    aliases = alias_map(registry)
    outputs: set[str] = set()
    for name, processor in registry.processors.items():
        for output in processor.outputs:
            if output not in aliases:  # a conflict is PG104's; the first claim wins here
                aliases[output] = name
                outputs.add(output)
    enabled = effective_enablement(registry)
    disabled: dict[str, str] = {}
    for name in (*registry.scrapers, *registry.processors):
        if not enabled.get(name, True):
            disabled[name] = describe_causes(disabled_causes(registry, name))
    for alias, canonical in aliases.items():
        if canonical in disabled and alias not in disabled:
            what = "output" if alias in outputs else "alias"
            disabled[alias] = f"{what} of {canonical}: {disabled[canonical]}"
    prefixes = sorted({m.group(1) for n in registry.processors if (m := _PHASE_PREFIX.match(n))})
    class_like = frozenset(
        a for p in registry.processors.values() for a in p.aliases if _CLASS_LIKE.match(a)
    )
    embedded = frozenset(n for n in (*aliases, *registry.scrapers) if "_" in n and len(n) >= 6)
    words = Counter(m.group(1) for a in class_like if (m := _LAST_WORD.search(a)))
    suffixes = sorted(word for word, count in words.items() if count >= 2)
    return Vocabulary(
        processors=frozenset(registry.processors),
        scrapers=frozenset(registry.scrapers),
        aliases=aliases,
        disabled=disabled,
        prefixes=tuple(prefixes),
        alias_suffixes=tuple(suffixes),
        class_like_aliases=class_like,
        calls=registry.references.calls,
        embedded=embedded,
        embedded_words=frozenset(
            part for name in embedded for part in name.split(".") if "_" in part),
    )
