"""Source scanning with ast: names, containers, classes, positions and suppressions.

The vocabulary comes from the small test registry (tests/registries.py).
"""

from __future__ import annotations

import textwrap

import pytest

from phasegate.registry.loading import load_registry
from phasegate.validator.scan import scan_python
from phasegate.validator.suppression import find_suppressions
from phasegate.validator.vocabulary import build_vocabulary
from tests.registries import SMALL_PATH


@pytest.fixture(scope="module")
def vocabulary():
    registry = load_registry(SMALL_PATH).registry
    assert registry is not None
    return build_vocabulary(registry)


def scan(text, vocabulary):
    return scan_python("m.py", textwrap.dedent(text), vocabulary)


def test_vocabulary_conventions(vocabulary):
    assert vocabulary.prefixes == ("p2_",)
    assert vocabulary.alias_suffixes == ("Processor",)
    assert "p2_retired" in vocabulary.disabled
    assert "RetiredProcessor" in vocabulary.disabled  # an alias of a disabled processor
    assert "feed_retired" in vocabulary.disabled  # the scraper
    assert vocabulary.looks_like_processor("p2_anything")
    assert vocabulary.looks_like_processor("GameSumaryProcessor")
    assert not vocabulary.looks_like_processor("Processor")
    assert not vocabulary.looks_like_processor("team_abbr")


def test_containers_of_every_kind(vocabulary):
    result = scan("""
        a = ["p2_box", "SheetProcessor"]
        b = {"game_summary", "team_summary", "x"}
        c = ("p2_lines", "p2_lines")
        d = {"p2_box": 1, "p2_props": 2}
        e = ["p2_box"]
    """, vocabulary)
    assert [(c.kind, c.line, c.column, c.names) for c in result.containers] == [
        ("list", 2, 5, ("p2_box", "p2_sheet")),
        ("set", 3, 5, ("game_summary", "team_summary")),
        ("dict", 5, 5, ("p2_box", "p2_props")),
    ]  # the tuple names one processor twice; e holds one name
    assert [(c.target, c.literal) for c in result.containers] == [
        ("a", True), ("b", True), ("d", True)]


def test_containers_record_target_and_whether_they_are_plain_literals(vocabulary):
    result = scan("""
        __all__ = ["p2_box", "p2_sheet"]
        flags: dict = {"p2_box": True, "p2_sheet": -1.5, "p2_lines": None}
        routes = {"p2_box": BoxHandler, "p2_sheet": SheetHandler}
        mixed = ["p2_box", "p2_sheet", other]
        call(["p2_box", "p2_sheet"])
        a = b = ["p2_box", "p2_sheet"]
    """, vocabulary)
    assert [(c.line, c.target, c.literal) for c in result.containers] == [
        (2, "__all__", True), (3, "flags", True), (4, "routes", False), (5, "mixed", False),
        (6, None, True), (7, "a", True)]


def test_names_the_code_switches_off_and_the_modules_owners(vocabulary):
    result = scan("""
        class RetiredProcessor:
            pass
        SWITCHES = {"p2_retired": False, "p2_box": None, "p2_sheet": "disabled",
                    "p2_lines": True, "p2_props": "enabled"}
        x = "p2_retired"
    """, vocabulary)
    assert [(s.value, s.switched_off) for s in result.strings] == [
        ("p2_retired", True), ("p2_box", True), ("p2_sheet", True), ("p2_lines", False),
        ("p2_props", False), ("p2_retired", False)]
    assert result.owners == {"p2_retired"}


def test_strings_with_character_columns_after_non_ascii(vocabulary):
    result = scan('label = "é"; name = "p2_shet"\n', vocabulary)
    [found] = result.strings
    assert (found.value, found.line, found.column) == ("p2_shet", 1, 21)


def test_names_in_comments_and_unrelated_strings_are_ignored(vocabulary):
    result = scan("""
        # "p2_shet" in a comment is not code
        x = "team_abbr"
    """, vocabulary)
    assert result.strings == [] and result.containers == []


def test_files_without_candidates_are_not_parsed_but_classes_are_found(vocabulary):
    result = scan("class SheetProcessor:\n    pass\nthis is not python(\n", vocabulary)
    assert result.syntax_error is None  # nothing name-like is quoted: not parsed
    assert result.classes == {"SheetProcessor"}


def test_syntax_error_with_position(vocabulary):
    result = scan('x = "p2_box"\ndef f(:\n', vocabulary)
    assert result.syntax_error is not None
    assert result.syntax_error[:2] == (2, 7)


def test_nul_byte_is_a_syntax_error_not_a_crash(vocabulary):
    result = scan_python("m.py", 'x = "p2_box"\x00\n', vocabulary)
    assert result.syntax_error is not None


def test_suppression_parsing():
    text = "a = 1  # phasegate: ignore[PG202, pg203] legacy list\nb = 2 # phasegate: ignore[PG204]\n"
    first, second = find_suppressions(text)
    assert (first.line, first.codes, first.reason) == (1, ("PG202", "PG203"), "legacy list")
    assert (second.line, second.codes, second.reason) == (2, ("PG204",), "")
