"""Names inside longer strings (queries, paths, messages), found at word boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from phasegate.registry.models import registry_from_data
from phasegate.validator.scan import scan_python
from phasegate.validator.vocabulary import build_vocabulary
from tests.test_references_calls import rules, run

VOCABULARY = build_vocabulary(registry_from_data({
    "version": 1, "pipeline": "demo", "timezone": "UTC",
    "scrapers": {"bdl_feed": {}, "odds": {}},
    "processors": {
        "gamebook": {"phase": 2, "outputs": ["nba_raw.gamebook_stats"]},
        "bdl_boxes": {"phase": 2, "outputs": ["nba_raw.bdl_boxes"]},
    },
}))


@pytest.mark.parametrize("text,mentioned", [
    ("SELECT * FROM nba_raw.bdl_boxes WHERE d = @d", ["nba_raw.bdl_boxes"]),
    ("SELECT * FROM `proj.nba_raw.bdl_boxes`", ["nba_raw.bdl_boxes"]),
    ("nba_raw.bdl_boxes_v2", []),  # `_` is part of a word: another table
    ("xbdl_boxes", []),
    ("bdl_boxes.py failed", ["bdl_boxes"]),
    ("run bdl_feed then bdl_boxes", ["bdl_feed", "bdl_boxes"]),
    ("gs://bucket/bdl_feed/2026-01-01.json", ["bdl_feed"]),
    ("odds api", []),  # no underscore: too common a word to find inside prose
    ("nba_raw.gamebook_stats.player", ["nba_raw.gamebook_stats"]),
    ("", []),
])
def test_mentions_are_whole_words_longest_first(text: str, mentioned: list[str]) -> None:
    assert VOCABULARY.mentions(text) == mentioned


def test_a_query_naming_a_disabled_output_is_pg204_at_its_line(tmp_path: Path) -> None:
    findings = run(tmp_path, '''\
        QUERY = f"""
            SELECT game_id FROM `{PROJECT}.nba_raw.bdl_boxes`
        """
        OTHER = "SELECT 1 FROM nba_raw.bdl_boxes_archive"
        ''')
    assert rules(findings) == [("PG204", 1, 9)]
    assert "this string mentions 'nba_raw.bdl_boxes', which is disabled" in findings[0].message


def test_docstrings_are_prose_and_not_read(tmp_path: Path) -> None:
    findings = run(tmp_path, '''\
        """Replaces bdl_boxes, retired with bdl_feed."""


        def load() -> None:
            """Used to read nba_raw.bdl_boxes."""
        ''')
    assert findings == []


def test_a_file_that_only_mentions_a_name_inside_a_string_is_scanned(tmp_path: Path) -> None:
    """The cheap pre-check must not skip a file whose only name is inside a message."""
    text = 'log.info("backfilling bdl_boxes for %s", day)\n'
    scan = scan_python("m.py", text, build_vocabulary(registry_from_data({
        "version": 1, "pipeline": "demo", "timezone": "UTC",
        "processors": {"bdl_boxes": {"phase": 2}}})))
    assert [(s.value, s.embedded) for s in scan.strings] == [("bdl_boxes", True)]


def test_a_mention_is_never_an_unknown_name(tmp_path: Path) -> None:
    findings = run(tmp_path, '''\
        MESSAGE = "gamebook and odds_tool and p2_unknown_thing were late"
        ''')
    assert findings == []

