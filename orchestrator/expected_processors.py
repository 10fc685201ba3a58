# Generated from registry/processors.yaml by phasegate; do not edit; run `phasegate generate` after changing the registry.
# Registry digest: 86d556e65b314c5fd3c6aeea6b03557b1f430289e7f7f46f4b90803f0b79e90d
"""What the orchestrator expects, per transition: generated from the phasegate registry.

Standard library only, so a Cloud Function cold start stays small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

REGISTRY_DIGEST = '86d556e65b314c5fd3c6aeea6b03557b1f430289e7f7f46f4b90803f0b79e90d'
PIPELINE = 'nba-stats'
TIMEZONE = 'America/New_York'

# Every name a processor may report under -> its canonical name.
ALIASES: dict[str, str] = {
    'BasketballRefRosterProcessor': 'p2_br_season_roster',
    'BdlBoxscoresProcessor': 'p2_bdl_box_scores',
    'BdlPlayerBoxScoresProcessor': 'p2_bdl_box_scores',
    'BigDataBallPbpProcessor': 'p2_bigdataball_pbp',
    'NbacGamebookProcessor': 'p2_nbacom_gamebook_pdf',
    'NbacPlayerBoxscoreProcessor': 'p2_nbacom_boxscores',
    'NbacScheduleProcessor': 'p2_nbacom_schedule',
    'OddsApiGameLinesBatchProcessor': 'p2_odds_game_lines',
    'OddsApiPropsBatchProcessor': 'p2_odds_player_props',
    'OddsApiPropsProcessor': 'p2_odds_player_props',
    'OddsGameLinesProcessor': 'p2_odds_game_lines',
    'PlayerGameSummaryProcessor': 'player_game_summary',
    'TeamDefenseGameSummaryProcessor': 'team_defense_game_summary',
    'TeamOffenseGameSummaryProcessor': 'team_offense_game_summary',
    'UpcomingPlayerGameContextProcessor': 'upcoming_player_game_context',
    'UpcomingTeamGameContextProcessor': 'upcoming_team_game_context',
    'p2_bdl_box_scores': 'p2_bdl_box_scores',
    'p2_bigdataball_pbp': 'p2_bigdataball_pbp',
    'p2_br_season_roster': 'p2_br_season_roster',
    'p2_nbacom_boxscores': 'p2_nbacom_boxscores',
    'p2_nbacom_gamebook_pdf': 'p2_nbacom_gamebook_pdf',
    'p2_nbacom_schedule': 'p2_nbacom_schedule',
    'p2_odds_game_lines': 'p2_odds_game_lines',
    'p2_odds_player_props': 'p2_odds_player_props',
    'player_game_summary': 'player_game_summary',
    'team_defense_game_summary': 'team_defense_game_summary',
    'team_offense_game_summary': 'team_offense_game_summary',
    'upcoming_player_game_context': 'upcoming_player_game_context',
    'upcoming_team_game_context': 'upcoming_team_game_context',
}

PROCESSORS: dict[str, dict] = {
    'p2_bdl_box_scores': {
        'phase': 2,
        'enabled': False,
        'per_run_key': True,
        'disabled_reason': "processor p2_bdl_box_scores is disabled: input scraper retired, since 2026-02-07; scraper bdl_box_scores is disabled: Ball Don't Lie API retired, since 2026-02-07",
    },
    'p2_bigdataball_pbp': {
        'phase': 2,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'p2_br_season_roster': {
        'phase': 2,
        'enabled': True,
        'per_run_key': False,
        'disabled_reason': None,
    },
    'p2_nbacom_boxscores': {
        'phase': 2,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'p2_nbacom_gamebook_pdf': {
        'phase': 2,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'p2_nbacom_schedule': {
        'phase': 2,
        'enabled': True,
        'per_run_key': False,
        'disabled_reason': None,
    },
    'p2_odds_game_lines': {
        'phase': 2,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'p2_odds_player_props': {
        'phase': 2,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'player_game_summary': {
        'phase': 3,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'team_defense_game_summary': {
        'phase': 3,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'team_offense_game_summary': {
        'phase': 3,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'upcoming_player_game_context': {
        'phase': 3,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
    'upcoming_team_game_context': {
        'phase': 3,
        'enabled': True,
        'per_run_key': True,
        'disabled_reason': None,
    },
}

TRANSITIONS: dict[str, dict] = {
    'phase2_to_phase3': {
        'from_phase': 2,
        'to_phase': 3,
        'collection': 'phase2_completion',
        'action': 'monitor',
        'trigger_topic': None,
        'deadline_minutes': 240,
        'grace_minutes': 30,
        'auto_heal': False,
        'expected': (
            'p2_bigdataball_pbp',
            'p2_nbacom_boxscores',
            'p2_nbacom_gamebook_pdf',
            'p2_odds_game_lines',
            'p2_odds_player_props',
        ),
        'required': ('p2_nbacom_boxscores', 'p2_nbacom_gamebook_pdf', 'p2_odds_game_lines'),
        'modes': {},
    },
    'phase3_to_phase4': {
        'from_phase': 3,
        'to_phase': 4,
        'collection': 'phase3_completion',
        'action': 'trigger',
        'trigger_topic': 'nba-phase4-trigger',
        'deadline_minutes': 240,
        'grace_minutes': 30,
        'auto_heal': False,
        'expected': (
            'player_game_summary',
            'team_defense_game_summary',
            'team_offense_game_summary',
            'upcoming_player_game_context',
            'upcoming_team_game_context',
        ),
        'required': (
            'player_game_summary',
            'team_defense_game_summary',
            'team_offense_game_summary',
            'upcoming_player_game_context',
            'upcoming_team_game_context',
        ),
        'modes': {
            'overnight': {
                'when': 'before_today',
                'expected': (
                    'player_game_summary',
                    'team_defense_game_summary',
                    'team_offense_game_summary',
                    'upcoming_player_game_context',
                    'upcoming_team_game_context',
                ),
                'required': ('player_game_summary', 'upcoming_player_game_context'),
            },
            'same_day': {
                'when': 'today',
                'expected': ('upcoming_player_game_context',),
                'required': ('upcoming_player_game_context',),
            },
            'tomorrow': {
                'when': 'tomorrow',
                'expected': ('upcoming_player_game_context',),
                'required': ('upcoming_player_game_context',),
            },
        },
    },
}


def select_mode(whens: Mapping[str, str], run_key: dt.date, today: dt.date) -> str | None:
    """The mode whose ``when`` matches ``run_key`` relative to ``today``, or None.

    ``today`` and ``tomorrow`` match one day and win over the open ranges
    ``before_today`` and ``after_today``. None means the transition's own
    expectations apply.
    """
    days = (run_key - today).days
    exact = {"today": days == 0, "tomorrow": days == 1}
    ranges = {"before_today": days < 0, "after_today": days > 0}
    for table in (exact, ranges):
        for name, when in sorted(whens.items()):
            if table.get(when, False):
                return name
    return None


def expectations(transition: str, run_key: dt.date, today: dt.date,
                 ) -> tuple[str | None, frozenset[str], frozenset[str]]:
    """(mode, expected, required) for a run key, given today in TIMEZONE."""
    spec = TRANSITIONS[transition]
    whens = {name: mode['when'] for name, mode in spec['modes'].items()}
    mode = select_mode(whens, run_key, today)
    chosen = spec['modes'][mode] if mode is not None else spec
    return mode, frozenset(chosen['expected']), frozenset(chosen['required'])


def canonical_name(reported: str) -> str | None:
    """The canonical processor name for a reported name, or None when unknown."""
    return ALIASES.get(reported)
