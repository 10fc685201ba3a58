"""Token-ranked "did you mean" suggestions for pipeline names.

Pipeline names are composed of tokens (``p2_nbac_player_boxscores``,
``NbacPlayerBoxscoreProcessor``, ``nba_raw.nbac_player_boxscores``) and the
usual mistakes are token-level: an abbreviation (``nbac``/``nbacom``,
``bdl``/``balldontlie``), plural drift (``boxscore``/``boxscores``), a split
or joined word (``box_scores``/``boxscores``), a CamelCase alias for a
snake_case name, a missing or different phase prefix, tokens in another
order, a typo inside one token. So names are compared token by token, not
character by character as difflib's ratio does.

``NameIndex`` keeps an inverted index from token to candidates: a lookup
scores only candidates that share a related token (equal, a prefix, a typo
away) with the name, at most ``pool`` of them, and ignores tokens so common
(``p2``, ``processor``) that they cannot tell candidates apart. Pure and
deterministic: ties go to difflib's ratio, then alphabetical order.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

CUTOFF = 0.6  # below this a candidate is unrelated and gets no hint
PHASE_MISMATCH = 0.5  # p2 against p3: another phase of the same pipeline
PHASE_WEIGHT = 0.25  # p2 tells little: most names of a phase share it
MAX_JOIN = 3  # box_scores ~ boxscores, play_by_play ~ playbyplay

_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_PHASE = re.compile(r"p(?:h(?:ase)?)?\d+")


def tokenize(name: str) -> tuple[str, ...]:
    """Lowercase tokens of ``name``, split at ``_ . -``, CamelCase and letter/digit boundaries.

    A phase prefix such as ``p2`` stays one token.
    """
    tokens: list[str] = []
    for segment in _SEPARATORS.split(name):
        if _PHASE.fullmatch(segment.lower()):
            tokens.append(segment.lower())
        else:
            tokens.extend(word.lower() for word in _WORDS.findall(segment))
    return tuple(tokens)


@lru_cache(maxsize=1 << 16)
def is_phase(token: str) -> bool:
    """A phase prefix token such as ``p2``."""
    return _PHASE.fullmatch(token) is not None


@lru_cache(maxsize=1 << 16)
def weight(token: str) -> float:
    """How much a token says about a name: a phase (shared by many names) and short tokens less."""
    if is_phase(token):
        return PHASE_WEIGHT
    return 0.5 if len(token) < 3 else 1.0


@lru_cache(maxsize=1 << 16)
def token_similarity(a: str, b: str) -> float:
    """How alike two tokens are, from 1 (equal) to 0 (unrelated).

    Equal 1; one a prefix of the other (``nbac``/``nbacom``, ``boxscore``/
    ``boxscores``) 0.7 to 1 by their length ratio; another plural
    (``summary``/``summaries``) 0.95; a typo away (``gambook``/
    ``gamebook``) below 0.9; an abbreviation (``bdl``/``balldontlie``) 0.6;
    two different phases 0.5. Digits and phases match only their own kind.
    """
    if a == b:
        return 1.0
    phase_a, phase_b = is_phase(a), is_phase(b)
    if phase_a or phase_b:
        return PHASE_MISMATCH if phase_a and phase_b else 0.0
    if a.isdigit() or b.isdigit():
        return 0.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 3:
        return 0.0
    if long.startswith(short):
        return 0.7 + 0.3 * len(short) / len(long)
    if _singular(a) == _singular(b):
        return 0.95  # summary/summaries
    allowed = 1 if len(long) < 8 else 2
    distance = _osa_distance(a, b, allowed)
    if distance <= allowed:
        return 0.9 * (1 - distance / len(long))
    if short[0] == long[0] and len(long) >= len(short) + 2 and _is_subsequence(short, long):
        return 0.6
    return 0.0


def _singular(token: str) -> str:
    if token.endswith("ies"):
        return token[:-3] + "y"
    return token[:-1] if token.endswith("s") and not token.endswith("ss") else token


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Edit distance with adjacent transpositions, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            value = min(previous[j] + 1, current[j - 1] + 1,
                        previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _is_subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(char in rest for char in short)


class _Span(NamedTuple):
    """One token, or up to MAX_JOIN adjacent ones joined (``box`` + ``scores``)."""

    start: int
    end: int
    text: str
    weight: float


@lru_cache(maxsize=1 << 16)
def _spans(tokens: tuple[str, ...]) -> tuple[tuple[_Span, ...], float]:
    """A name's spans, and its tokens' total weight."""
    weights = [weight(token) for token in tokens]
    spans = [_Span(i, i + 1, token, weights[i]) for i, token in enumerate(tokens)]
    for size in range(2, MAX_JOIN + 1):
        for start in range(len(tokens) - size + 1):
            part = tokens[start:start + size]
            if not any(map(is_phase, part)):
                spans.append(_Span(start, start + size, "".join(part),
                                   sum(weights[start:start + size])))
    return tuple(spans), sum(weights)


def _join_alike(a: str, b: str) -> bool:
    """Joined tokens pair with a token of about their length: not nbacomplayer with nbacom."""
    return min(len(a), len(b)) >= 0.8 * max(len(a), len(b))


def name_score(query: Sequence[str], candidate: Sequence[str]) -> float:
    """How alike two tokenized names are, from 0 to 1, whatever the tokens' order.

    Tokens (or adjacent tokens joined, on one side) are paired greedily, most
    alike first, each at most once; the score is the paired tokens' weight,
    scaled by their similarity, over all tokens' weight (a weighted Dice
    coefficient), so every unpaired token costs.
    """
    return _score(_spans(tuple(query)), _spans(tuple(candidate)))


def _score(
    query: tuple[tuple[_Span, ...], float], candidate: tuple[tuple[_Span, ...], float],
) -> float:
    (q_spans, q_total), (c_spans, c_total) = query, candidate
    if not q_total + c_total:
        return 0.0
    pairs: list[tuple[float, int, int, int, int, int, float]] = []
    for q_start, q_end, q_text, q_weight in q_spans:
        q_joined = q_end - q_start > 1
        for c_start, c_end, c_text, c_weight in c_spans:
            c_joined = c_end - c_start > 1
            if (q_joined or c_joined) and (q_joined and c_joined or q_text[:3] != c_text[:3]
                                           or not _join_alike(q_text, c_text)):
                continue  # a join pairs with one token that starts alike, of a like length
            similarity = token_similarity(q_text, c_text)
            if similarity > 0:
                pairs.append((-similarity, q_start - q_end + c_start - c_end, q_start, c_start,
                              q_end, c_end, q_weight + c_weight))
    pairs.sort()
    used_q = used_c = 0  # bit masks of paired token positions
    matched = 0.0
    for negative, _, q_start, c_start, q_end, c_end, both in pairs:
        q_mask = (1 << q_end) - (1 << q_start)
        c_mask = (1 << c_end) - (1 << c_start)
        if used_q & q_mask or used_c & c_mask:
            continue
        used_q |= q_mask
        used_c |= c_mask
        matched -= negative * both
    return matched / (q_total + c_total)


def _trigrams(token: str) -> set[str]:
    return {token[i:i + 3] for i in range(len(token) - 2)}


class NameIndex:
    """Candidates indexed by token, for ranking the ones closest to a name.

    A lookup scores at most ``pool`` candidates: those sharing a related
    token with the name, the likeliest first. A token in more than ``common``
    candidates (``processor`` in a tree of classes) is too common to select
    any, though it still counts in the score; phases never select. ``scored``
    is how many candidates the last lookup scored.
    """

    def __init__(
        self, candidates: Iterable[str], *, pool: int = 300, common: int = 5000,
        cutoff: float = CUTOFF,
    ) -> None:
        self.names: tuple[str, ...] = tuple(sorted(set(candidates)))
        self.pool = pool
        self.common = common
        self.cutoff = cutoff
        self.scored = 0
        self._tokens = [tokenize(name) for name in self.names]
        self._totals = [sum(map(weight, tokens)) for tokens in self._tokens]
        self._token_sets = [frozenset(tokens) for tokens in self._tokens]
        self._postings: dict[str, list[int]] = {}
        for number, tokens in enumerate(self._tokens):
            for token in dict.fromkeys(tokens):
                self._postings.setdefault(token, []).append(number)
        self._by_start: dict[str, list[str]] = {}  # first three letters -> tokens
        self._by_trigram: dict[str, list[str]] = {}
        for token in sorted(self._postings):
            if len(token) < 3 or token.isdigit() or is_phase(token):
                continue
            self._by_start.setdefault(token[:3], []).append(token)
            for trigram in _trigrams(token):
                self._by_trigram.setdefault(trigram, []).append(token)

    def postings(self, token: str) -> tuple[str, ...]:
        """The candidates holding ``token``."""
        return tuple(self.names[number] for number in self._postings.get(token, ()))

    def related(self, token: str) -> dict[str, float]:
        """The indexed tokens alike ``token`` (equal, a prefix either way, a typo away)."""
        found = {token} if token in self._postings else set()
        if len(token) >= 3 and not token.isdigit() and not is_phase(token):
            found.update(token[:end] for end in range(3, len(token))
                         if token[:end] in self._postings)
            found.update(other for other in self._by_start.get(token[:3], ())
                         if other.startswith(token))
            allowed = 1 if len(token) < 7 else 2
            shared: dict[str, int] = {}
            for trigram in _trigrams(token):
                for other in self._by_trigram.get(trigram, ()):
                    if abs(len(other) - len(token)) <= allowed:
                        shared[other] = shared.get(other, 0) + 1
            least = max(1, len(token) - 2 - 3 * allowed)
            found.update(other for other, count in shared.items() if count >= least)
        similar = {other: token_similarity(token, other) for other in found}
        return {other: similarity for other, similarity in similar.items() if similarity > 0}

    def _selected(self, spans: Sequence[_Span], total: float) -> list[int]:
        """Up to ``pool`` candidates sharing a related token, the likeliest first.

        Rare tokens select candidates, rarest first, until ``4 * pool`` are
        selected; commoner tokens then only count for those already selected.
        Likeliest by an estimate of the score: the weight of the name's tokens
        found in the candidate, over both names' weight.
        """
        found: list[tuple[int, int, float, str]] = []  # (postings, span, value, token)
        for index, span in enumerate(spans):
            if is_phase(span.text):
                continue
            joined = span.end - span.start > 1
            for other, similarity in self.related(span.text).items():
                if not joined or _join_alike(span.text, other):
                    found.append((len(self._postings[other]), index, similarity * span.weight,
                                  other))
        found.sort()
        best: dict[tuple[int, int], float] = {}
        selected: set[int] = set()
        for size, index, value, other in found:
            numbers: Iterable[int] = self._postings[other]
            if size > self.common or (selected and len(selected) + size > 4 * self.pool):
                if size > len(selected):  # look the token up in each selected candidate
                    numbers = [number for number in selected
                               if other in self._token_sets[number]]
                else:
                    numbers = [number for number in numbers if number in selected]
            for number in numbers:
                selected.add(number)
                key = (number, index)
                if best.get(key, 0.0) < value:
                    best[key] = value
        shared: dict[int, float] = {}
        for (number, _), value in best.items():
            shared[number] = shared.get(number, 0.0) + value
        estimate = {number: 2 * min(value, total) / (total + self._totals[number])
                    for number, value in shared.items()}
        return sorted(estimate, key=lambda number: (-estimate[number], number))[: self.pool]

    def rank(self, name: str, n: int = 1) -> list[tuple[str, float]]:
        """The ``n`` candidates closest to ``name`` at or above the cutoff, with their scores."""
        query = _spans(tokenize(name))
        selected = self._selected(*query)
        self.scored = len(selected)
        scores = [(round(_score(query, _spans(self._tokens[number])), 9), number)
                  for number in selected]
        scores = sorted((item for item in scores if item[0] >= self.cutoff), reverse=True)
        if not scores or n < 1:
            return []
        last = scores[min(n, len(scores)) - 1][0]  # ties at the last place take the ratio
        ranked = sorted(
            (-score, -difflib.SequenceMatcher(None, name, self.names[number]).ratio(),
             self.names[number])
            for score, number in scores if score >= last)
        return [(candidate, -negative) for negative, _, candidate in ranked[:n]]

    def best(self, name: str) -> str | None:
        """The candidate closest to ``name``, or None when none is close enough."""
        ranked = self.rank(name)
        return ranked[0][0] if ranked else None


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name``, or None when none is close enough."""
    return NameIndex(candidates).best(name)
