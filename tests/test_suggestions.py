"""'Did you mean' hints rank pipeline names token by token (phasegate.validator.suggest)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from itertools import product

import pytest

from phasegate.validator.context import Suggester
from phasegate.validator.suggest import NameIndex, name_score, token_similarity, tokenize
from tests.conftest import findings_for

# One pipeline's names: processors, their class aliases, tables and scrapers, with close
# distractors (same source other entity, same entity other source, other phase).
CANDIDATES = (
    "p2_nbac_player_boxscores", "p2_nbac_team_boxscore", "p2_nbacom_gamebook_player_stats",
    "p2_nbacom_gamebook_pdf", "p2_bdl_player_boxscores", "p2_balldontlie_standings",
    "p2_espn_scoreboard", "p2_espn_team_roster", "p2_odds_game_lines", "p2_odds_player_props",
    "p2_nbac_injury_report", "p2_nbac_schedule", "p2_nbac_play_by_play", "p2_bigdataball_pbp",
    "p3_player_game_summary", "p3_team_defense_game_summary", "p4_player_shot_zone_analysis",
    "p5_player_points_predictions",
    "NbacPlayerBoxscoreProcessor", "NbacGamebookProcessor", "BdlBoxscoresProcessor",
    "OddsGameLinesProcessor",
    "nba_raw.nbac_player_boxscores", "nba_raw.nbac_gamebook_player_stats",
    "nba_raw.bdl_player_boxscores", "nba_analytics.player_game_summary",
    "nbac_gamebook_pdf", "nbac_player_boxscore", "bdl_box_scores", "odds_api_lines",
    "odds_api_props", "espn_scoreboard_api",
)

TABLE = [
    # abbreviation and plural drift (the reported case's shape)
    ("p2_nbacom_player_boxscore", "p2_nbac_player_boxscores"),
    ("p2_balldontlie_player_boxscores", "p2_bdl_player_boxscores"),
    ("p2_bigdataball_playbyplay", "p2_bigdataball_pbp"),
    ("p2_odds_game_line", "p2_odds_game_lines"),
    ("p5_player_point_prediction", "p5_player_points_predictions"),
    ("p2_nbac_injuries", "p2_nbac_injury_report"),
    ("p2_espn_rosters", "p2_espn_team_roster"),
    # split and joined words
    ("p2_nbac_player_box_scores", "p2_nbac_player_boxscores"),
    ("bdl_boxscores", "bdl_box_scores"),
    ("p2_nbac_playbyplay", "p2_nbac_play_by_play"),
    # CamelCase alias against snake_case names, and misspelt aliases
    ("NbacTeamBoxscoreProcessor", "p2_nbac_team_boxscore"),
    ("EspnScoreboardProcessor", "p2_espn_scoreboard"),
    ("BallDontLieStandingsProcessor", "p2_balldontlie_standings"),
    ("NbacGambookProcessor", "NbacGamebookProcessor"),
    ("NbacGamebookProcesor", "NbacGamebookProcessor"),
    ("OddsGameLinesProcesor", "OddsGameLinesProcessor"),
    # table names
    ("nba_raw.nbac_player_boxscore", "nba_raw.nbac_player_boxscores"),
    ("nba_raw.nbacom_gamebook_player_stats", "nba_raw.nbac_gamebook_player_stats"),
    ("nba_analytics.player_game_summaries", "nba_analytics.player_game_summary"),
    # missing, extra or different phase prefix
    ("nbac_injury_report", "p2_nbac_injury_report"),
    ("p3_nbac_schedule", "p2_nbac_schedule"),
    ("p2_player_game_summary", "p3_player_game_summary"),
    ("p4_player_shot_zones", "p4_player_shot_zone_analysis"),
    # transposed tokens, a typo inside a token
    ("p2_player_boxscores_nbac", "p2_nbac_player_boxscores"),
    ("p2_schedule_nbac", "p2_nbac_schedule"),
    ("p3_player_game_summery", "p3_player_game_summary"),
    ("nbac_gamebook_pfd", "nbac_gamebook_pdf"),
    # unrelated: no hint
    ("p2_nope", None),
    ("FooBarProcessor", None),
    ("weather_forecast", None),
    ("p2_mlb_pitcher_stats", None),
    ("p2_nbac_standings", None),  # shares source and phase only
]


@pytest.mark.parametrize(("name", "expected"), TABLE, ids=[name for name, _ in TABLE])
def test_suggestion_table(name: str, expected: str | None) -> None:
    assert NameIndex(CANDIDATES).best(name) == expected
    hint = Suggester(CANDIDATES)(name)
    assert hint == (f"; did you mean {expected!r}?" if expected else "")


def _old_hint(name: str, candidates: Iterable[str], pool: int = 300) -> str | None:
    """The hint before token ranking (the replaced Suggester, verbatim in effect).

    Candidates bucketed by first letter and length, difflib on the nearest lengths.
    """
    buckets: dict[tuple[str, int], list[str]] = {}
    for candidate in sorted(set(candidates)):
        buckets.setdefault((candidate[:1], len(candidate)), []).append(candidate)
    near: list[str] = []
    for distance in (0, -1, 1, -2, 2, -3, 3):
        near.extend(buckets.get((name[:1], len(name) + distance), ()))
        if len(near) >= pool:
            break
    close = difflib.get_close_matches(name, near[:pool], n=1, cutoff=0.6)
    return close[0] if close else None


# The drifted fixture's processors and aliases (tests/fixtures/drifted-repo): the reported case.
FIXTURE_NAMES = (
    "p2_nbacom_gamebook_pdf", "p2_nbacom_boxscores", "p2_odds_game_lines",
    "p2_odds_player_props", "p2_bdl_box_scores", "NbacGambookProcessor",
    "NbacPlayerBoxscoreProcessor", "BdlBoxscoresProcessor",
)

# (name, candidates, the old hint, the token-ranked hint), each old hint computed, not assumed
OLD_WAS_WRONG = [
    ("p2_nbacom_player_boxscore", FIXTURE_NAMES, "p2_nbacom_gamebook_pdf", "p2_nbacom_boxscores"),
    ("NbacTeamBoxscoreProcessor", CANDIDATES, "NbacPlayerBoxscoreProcessor",
     "p2_nbac_team_boxscore"),
    ("p2_player_boxscores_nbac", CANDIDATES, "p2_bdl_player_boxscores",
     "p2_nbac_player_boxscores"),
    ("p4_player_shot_zones", CANDIDATES, "p2_bdl_player_boxscores",
     "p4_player_shot_zone_analysis"),
    ("p2_espn_rosters", CANDIDATES, "p2_espn_scoreboard", "p2_espn_team_roster"),
    ("p2_nbac_standings", CANDIDATES, "p2_nbac_schedule", None),
    ("nbac_injury_report", CANDIDATES, None, "p2_nbac_injury_report"),
    ("EspnScoreboardProcessor", CANDIDATES, None, "p2_espn_scoreboard"),
]


@pytest.mark.parametrize(("name", "candidates", "old", "new"), OLD_WAS_WRONG,
                         ids=[case[0] for case in OLD_WAS_WRONG])
def test_the_old_difflib_hint_was_wrong(
    name: str, candidates: tuple[str, ...], old: str | None, new: str | None,
) -> None:
    assert _old_hint(name, candidates) == old
    assert NameIndex(candidates).best(name) == new
    assert old != new


def test_plain_difflib_over_every_candidate_is_no_better() -> None:
    """Without the old buckets difflib still picks by characters, not by tokens."""
    def plain(name: str) -> str | None:
        close = difflib.get_close_matches(name, CANDIDATES, n=1, cutoff=0.6)
        return close[0] if close else None

    assert plain("EspnScoreboardProcessor") == "BdlBoxscoresProcessor"
    assert plain("p2_player_boxscores_nbac") == "p2_bdl_player_boxscores"
    assert plain("FooBarProcessor") == "NbacGamebookProcessor"
    index = NameIndex(CANDIDATES)
    assert index.best("EspnScoreboardProcessor") == "p2_espn_scoreboard"
    assert index.best("p2_player_boxscores_nbac") == "p2_nbac_player_boxscores"
    assert index.best("FooBarProcessor") is None


# --- the pieces --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "tokens"), [
    ("p2_nbac_player_boxscores", ("p2", "nbac", "player", "boxscores")),
    ("NbacPlayerBoxscoreProcessor", ("nbac", "player", "boxscore", "processor")),
    ("nba_raw.nbac_player_boxscores", ("nba", "raw", "nbac", "player", "boxscores")),
    ("odds-api-v2", ("odds", "api", "v", "2")),
    ("HTTPServer2Handler", ("http", "server", "2", "handler")),
    ("P3_Team", ("p3", "team")),
])
def test_tokenize(name: str, tokens: tuple[str, ...]) -> None:
    assert tokenize(name) == tokens


def test_token_similarity_orders_the_usual_mistakes() -> None:
    assert token_similarity("nbac", "nbac") == 1.0
    assert token_similarity("boxscore", "boxscores") > token_similarity("nbac", "nbacom") > 0.7
    assert token_similarity("summary", "summaries") > 0.9
    assert 0.7 < token_similarity("gambook", "gamebook") < 0.9
    assert token_similarity("bdl", "balldontlie") == 0.6
    assert token_similarity("p2", "p3") == 0.5
    assert token_similarity("p2", "pbp") == 0.0
    assert token_similarity("2", "3") == 0.0
    assert token_similarity("player", "team") == 0.0
    assert token_similarity("nbac", "gamebook") == 0.0


def test_order_of_tokens_does_not_change_the_score() -> None:
    assert name_score(tokenize("p2_player_boxscores_nbac"),
                      tokenize("p2_nbac_player_boxscores")) == 1.0


def test_ties_go_to_difflib_ratio_then_alphabetical() -> None:
    # the same tokens in another order score alike; the ratio prefers the same order
    index = NameIndex(["p2_player_nbac_boxscores", "p2_nbac_player_boxscores"])
    assert [name for name, _ in index.rank("p2_nbac_player_boxscore", 2)] == [
        "p2_nbac_player_boxscores", "p2_player_nbac_boxscores"]
    # same score and ratio: alphabetical, whatever the candidates' order
    assert NameIndex(["p2_x_b", "p2_x_a"]).rank("p2_x", 2) == NameIndex(
        ["p2_x_a", "p2_x_b"]).rank("p2_x", 2)
    assert NameIndex(["p2_x_b", "p2_x_a"]).best("p2_x") == "p2_x_a"


# --- Suggester: the hint, its budget and its cost ----------------------------------------


def test_hint_format_and_canonical_names() -> None:
    aliases = {"p2_nbacom_boxscores": "p2_nbacom_boxscores",
               "NbacPlayerBoxscoreProcessor": "p2_nbacom_boxscores"}
    assert Suggester(aliases)("NbacPlayerBoxscoreProcesor") == (
        "; did you mean 'NbacPlayerBoxscoreProcessor'?")
    assert Suggester(aliases, canonical=aliases)("NbacPlayerBoxscoreProcesor") == (
        "; did you mean 'p2_nbacom_boxscores'?")
    assert Suggester(aliases)("weather_forecast") == ""


def test_after_the_budget_no_more_hints() -> None:
    suggest = Suggester(CANDIDATES, budget=3)
    hints = [suggest("p2_nbacom_player_boxscore") for _ in range(5)]
    assert hints == ["; did you mean 'p2_nbac_player_boxscores'?"] * 3 + ["", ""]


def test_a_call_without_a_hint_still_spends_the_budget() -> None:
    suggest = Suggester(CANDIDATES, budget=1)
    assert suggest("weather_forecast") == ""
    assert suggest("p2_nbacom_player_boxscore") == ""


def test_the_index_is_built_only_when_a_hint_is_asked_for() -> None:
    suggest = Suggester(CANDIDATES)
    assert suggest._index is None
    suggest("p2_nope")
    assert suggest._index is not None


def _words(count: int, start: int = 0) -> list[str]:
    """Distinct 7-letter words over letters that no real name here holds."""
    letters = "qwxzjk"
    return ["".join(word) for word in product(letters, repeat=7)][start:start + count]


REAL = ("p2_nbac_player_boxscores", "p2_nbac_team_boxscore", "p2_bdl_player_boxscores",
        "p2_odds_game_lines")


def test_a_50000_name_pool_scores_only_names_sharing_a_token() -> None:
    synthetic = [f"p2_{a}_{b}" for a, b in zip(_words(50_000), _words(50_000, 100_000),
                                               strict=True)]
    index = NameIndex([*synthetic, *REAL])
    assert len(index.postings("p2")) == 50_004  # too common to select anything
    assert index.best("p2_nbacom_player_boxscore") == "p2_nbac_player_boxscores"
    # the three sharing nbac, player or boxscore(s); not p2_odds_game_lines, nor the 50,000
    assert index.scored == 3
    assert index.best("p2_zzzz_nope") is None
    assert index.scored == 0


def test_a_lookup_scores_at_most_pool_candidates() -> None:
    sharing = [f"p2_{word}_boxscores" for word in _words(1_000)]
    index = NameIndex([*sharing, *REAL], pool=300)
    assert index.best("p2_nbacom_player_boxscore") == "p2_nbac_player_boxscores"
    assert index.scored == 300  # those sharing most tokens first, so the right one is in


def test_a_token_in_more_than_common_candidates_selects_none() -> None:
    sharing = [f"p2_{word}_boxscores" for word in _words(3_000)]
    index = NameIndex([*sharing, *REAL], common=2_000)
    assert index.best("p2_nbacom_player_boxscore") == "p2_nbac_player_boxscores"
    assert index.scored == 3  # through nbac and player; boxscores is in 3,001


# --- the rules use it ---------------------------------------------------------------------

HEAD = """\
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_nbacom_boxscores: {phase: 2, aliases: [NbacPlayerBoxscoreProcessor]}
  p2_nbacom_gamebook_pdf: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
"""


def test_pg101_hints_the_processor_not_the_longest_common_run_of_letters() -> None:
    [finding] = findings_for(HEAD + "    expects: [p2_nbacom_player_boxscore]\n")
    assert finding.rule == "PG101"
    assert finding.message.endswith("; did you mean 'p2_nbacom_boxscores'?")


def test_pg101_names_the_canonical_name_for_a_misspelt_alias() -> None:
    [finding] = findings_for(HEAD + "    expects: [NbacPlayerBoxscoreProcesor]\n")
    assert finding.message.endswith("; did you mean 'p2_nbacom_boxscores'?")
