# Generated from registry/processors.yaml by phasegate 0.1.0; do not edit; run `phasegate generate` after changing the registry.
# Registry digest: 1499f4268cdadf85dbfba28de21cfd9dd5f3339f9efb2d289091f6847a77c509
"""What the orchestrator expects, per transition: generated from the phasegate registry.

Data only, standard library only: the deployed function reads it through
phasegate.orchestrator, and pipeline code may import EXPECTED_PROCESSORS from here.
"""

REGISTRY_DIGEST = '1499f4268cdadf85dbfba28de21cfd9dd5f3339f9efb2d289091f6847a77c509'
PHASEGATE_VERSION = '0.1.0'

EXPECTATIONS: dict = {
    'format': 2,
    'phasegate_version': '0.1.0',
    'pipeline': 'nba-stats',
    'timezone': 'America/New_York',
    'registry_digest': '1499f4268cdadf85dbfba28de21cfd9dd5f3339f9efb2d289091f6847a77c509',
    'aliases': {
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
    },
    'processors': {
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
    },
    'transitions': {
        'phase2_to_phase3': {
            'digest': 'ee1bcaee671b8050c107c509e5eaa978213def1bb6d6094141bfe70fbc10371c',
            'from_phase': 2,
            'to_phase': 3,
            'collection': 'phase2_completion',
            'action': 'monitor',
            'trigger_topic': None,
            'deadline_minutes': 240,
            'grace_minutes': 30,
            'auto_heal': False,
            'policy': (),
            'target': None,
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
            'digest': 'c71346807ef75b9a087fa354eda656e5dc16b9dc3c4e015d65194e1cb697dd02',
            'from_phase': 3,
            'to_phase': 4,
            'collection': 'phase3_completion',
            'action': 'trigger',
            'trigger_topic': 'nba-phase4-trigger',
            'deadline_minutes': 240,
            'grace_minutes': 30,
            'auto_heal': False,
            'policy': (),
            'target': {
                'kind': 'pubsub',
                'topic': 'nba-phase4-trigger',
                'message': None,
                'each': None,
            },
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
    },
    'content_digest': '81ddac2deded121bdfdbeada09c305402237ea6fab550ff1893dfad382976547',
}

# Per transition: the processors it waits for, and those it never fires without.
EXPECTED_PROCESSORS: dict[str, frozenset[str]] = {
    name: frozenset(spec['expected'])
    for name, spec in EXPECTATIONS['transitions'].items()
}
REQUIRED_PROCESSORS: dict[str, frozenset[str]] = {
    name: frozenset(spec['required'])
    for name, spec in EXPECTATIONS['transitions'].items()
}
