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
    )
