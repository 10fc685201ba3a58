"""How each canary state is shown: a symbol (with an ASCII fallback) and a meaning.

Shared by every reporter so that the terminal, the JSON documentation and the
HTML page say the same thing; the state is always written out or given by its
symbol, never by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    symbol: str  # Unicode, for terminals and pages that can show it
    ascii: str  # the same, for a stream that cannot encode the symbol
    meaning: str


LOOKS: dict[str, Look] = {
    "TRIGGERED": Look("✓", "+", "fired (the time is local)"),
    "WAITING": Look("…", ".", "waiting, within the deadline or the grace (missing count)"),
    "LATE": Look("!", "!", "late: the policy is not satisfied past the deadline or an early "
                           "rule (missing count)"),
    "STUCK": Look("■", "#", "stuck: complete (or a tier holds) but not fired after the grace"),
    "MISSING_RUN": Look("∅", "0", "missing run: the calendar expects one, no document"),
    "UNREADABLE": Look("?", "?", "unreadable: the document cannot be interpreted"),
    "NO_DATA": Look("·", "-", "no document (normal on a night without games)"),
}
UNKNOWN = Look("•", "*", "another state")
WARNING = Look("⚠", "^", "warning beside the state: UNKNOWN_NAMES, STALE_REGISTRY, "
                         "MIRROR_FAILED")


def look(state: str) -> Look:
    return LOOKS.get(state, UNKNOWN)
