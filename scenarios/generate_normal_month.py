#!/usr/bin/env python3
"""Generate scenarios/normal_month.yaml: a month of normal traffic, which must never alert.

    python scenarios/generate_normal_month.py           # write the file
    python scenarios/generate_normal_month.py --check   # exit 1 if the committed file differs

Standard library only; one fixed seed (``SEED``), drawn in a fixed order, so the
output is the same on every machine. The seed was chosen once, before the first
run, and never changed to make a run pass.

The month: run keys 2026-10-15 .. 2026-11-14 (31 nights) in America/New_York,
so the end of daylight saving time (2026-11-01 02:00 EDT -> 01:00 EST) falls
inside it; every time below is computed in UTC from a local wall-clock time, so
offsets (the scenario's ``at:``) are real elapsed time across the change.

The distribution (all draws uniform over whole minutes, bounds included):

- Nights without games: each night has no games with probability 0.15 (no
  event at all: no document, NO_DATA). The night of 2026-10-31 always has
  games, so that the traffic crosses the repeated hour of 2026-11-01.
- End of the last game, T: 22:20 local + U[0, 80] minutes (22:20 .. 23:40).
  The night of 2026-10-31 has a late West Coast game instead: T = 00:30 EDT
  on 2026-11-01 + U[0, 40], so its messages arrive across 01:00 EDT -> 01:00
  EST and through the repeated hour (offsets are real elapsed time there).
- Phase 2 (six processors, transition phase2_to_phase3), each completes at
  T + base + U[0, width]:

      gamebook pdf   5 + U[0, 10]        odds game lines  12 + U[0, 12]
      boxscores      3 + U[0, 10]        odds props       15 + U[0, 12]
      BigDataBall   35 + U[0, 12]        Ball Don't Lie   48 + U[0, 12]

  The first completion is one of the first two, at T + 3 .. T + 13, so each
  processor's offset from the first completion (what the learned rule
  learns) varies over at most width + 10 <= 22 minutes: less than the
  30-minute slack. A new night can therefore never be later than the latest
  offset already seen plus the slack, and the learned rule SHOULD stay quiet
  on every night. Nobody is ever missing for good, so the silence rule (two
  consecutive run keys) cannot hold either.
- Phase 3 (three processors, transition phase3_to_phase4) starts when phase
  2 fires (the last phase 2 completion, P): P + 18 + U[0, 10] (player game
  summary), P + 22 + U[0, 10] (team offense), P + 25 + U[0, 12] (upcoming
  player context); offsets vary over at most 22 minutes, as above.
- Quick retries: each processor, each night, with probability 0.04 first
  reports ``failed`` 4 + U[0, 5] minutes before its success (drawn above).
- Pub/Sub redeliveries: each message, with probability 0.08, is delivered
  a second time with the same ``message_id:``, 0 + U[0, 4] minutes later.
- Repeats after the trigger: each success, with probability 0.03, is sent
  again as a new message 30 + U[0, 120] minutes after its transition fired
  (a processor rerun); the orchestrator answers ALREADY_TRIGGERED.
- Aliases: each message names its processor by one of its aliases, chosen
  uniformly.

Expectations: every game night, both transitions fire at the moment their last
processor's first successful message arrives; nothing else may alert.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

SEED = 20261129
ZONE = ZoneInfo("America/New_York")
UTC = dt.UTC
FIRST_NIGHT = dt.date(2026, 10, 15)
NIGHTS = 31  # through 2026-11-14
ALWAYS_GAMES = {dt.date(2026, 10, 31)}  # the night that crosses the end of DST
START_LOCAL = dt.datetime(2026, 10, 15, 20, 0, tzinfo=ZONE)
UNTIL_LOCAL = dt.datetime(2026, 11, 15, 8, 0, tzinfo=ZONE)
OUTPUT = Path(__file__).with_name("normal_month.yaml")

P_NO_GAMES = 0.15
P_RETRY = 0.04
P_REDELIVERY = 0.08
P_REPEAT = 0.03

# name: (aliases it reports under, base minutes, width minutes)
PHASE2: dict[str, tuple[list[str], int, int]] = {
    "p2_nbacom_gamebook_pdf": (["NbacGamebookProcessor"], 5, 10),
    "p2_nbacom_boxscores": (["NbacPlayerBoxscoreProcessor"], 3, 10),
    "p2_odds_game_lines": (["OddsApiGameLinesBatchProcessor", "OddsGameLinesProcessor"], 12, 12),
    "p2_odds_player_props": (["OddsApiPropsBatchProcessor", "OddsApiPropsProcessor"], 15, 12),
    "p2_bigdataball_pbp": (["BigDataBallPbpProcessor"], 35, 12),
    "p2_bdl_box_scores": (["BdlBoxscoresProcessor", "BdlPlayerBoxScoresProcessor"], 48, 12),
}
PHASE3: dict[str, tuple[list[str], int, int]] = {
    "player_game_summary": (["PlayerGameSummaryProcessor"], 18, 10),
    "team_offense_game_summary": (["TeamOffenseGameSummaryProcessor"], 22, 10),
    "upcoming_player_game_context": (["UpcomingPlayerGameContextProcessor"], 25, 12),
}

REGISTRY = """\
registry:
  version: 1
  pipeline: nba-stats
  timezone: America/New_York
  scrapers:
    nbac_gamebook_pdf: {enabled: true}
    nbac_player_boxscore: {enabled: true}
    oddsa_events: {enabled: true}
    oddsa_game_lines: {enabled: true}
    oddsa_player_props: {enabled: true}
    bigdataball_pbp: {enabled: true}
    bdl_box_scores: {enabled: true}
  processors:
    p2_nbacom_gamebook_pdf:
      {phase: 2, inputs: [nbac_gamebook_pdf], aliases: [NbacGamebookProcessor]}
    p2_nbacom_boxscores:
      {phase: 2, inputs: [nbac_player_boxscore], aliases: [NbacPlayerBoxscoreProcessor]}
    p2_odds_game_lines:
      phase: 2
      inputs: [oddsa_events, oddsa_game_lines]
      aliases: [OddsApiGameLinesBatchProcessor, OddsGameLinesProcessor]
    p2_odds_player_props:
      phase: 2
      inputs: [oddsa_events, oddsa_player_props]
      aliases: [OddsApiPropsBatchProcessor, OddsApiPropsProcessor]
    p2_bigdataball_pbp:
      {phase: 2, inputs: [bigdataball_pbp], aliases: [BigDataBallPbpProcessor]}
    p2_bdl_box_scores:
      phase: 2
      inputs: [bdl_box_scores]
      aliases: [BdlBoxscoresProcessor, BdlPlayerBoxScoresProcessor]
    player_game_summary:
      phase: 3
      inputs: [p2_nbacom_gamebook_pdf, p2_nbacom_boxscores, p2_bigdataball_pbp]
      aliases: [PlayerGameSummaryProcessor]
    team_offense_game_summary:
      {phase: 3, inputs: [p2_nbacom_boxscores], aliases: [TeamOffenseGameSummaryProcessor]}
    upcoming_player_game_context:
      phase: 3
      inputs: [p2_odds_player_props]
      aliases: [UpcomingPlayerGameContextProcessor]
  transitions:
    phase2_to_phase3:
      {from_phase: 2, to_phase: 3, collection: phase2_completion, action: trigger,
       trigger_topic: nba-phase3-trigger, deadline_minutes: 240, grace_minutes: 30}
    phase3_to_phase4:
      {from_phase: 3, to_phase: 4, collection: phase3_completion, action: trigger,
       trigger_topic: nba-phase4-trigger, deadline_minutes: 240, grace_minutes: 30}
"""


def duration(delta: dt.timedelta) -> str:
    """``16d5h3m``: the scenario's duration format, whole minutes."""
    minutes = int(delta.total_seconds()) // 60
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (
        f"{minutes}m" if minutes else "")
    return text or "0m"


def local(moment: dt.datetime) -> str:
    """``10-31 23:40 EDT``: for the comments."""
    return moment.astimezone(ZONE).strftime("%m-%d %H:%M %Z")


Processors = dict[str, tuple[list[str], int, int]]


def phase(rng: random.Random, processors: Processors, start: dt.datetime, date: str,
          events: list[tuple[dt.datetime, str]]) -> tuple[dt.datetime, dict[str, dt.datetime]]:
    """One phase's messages from ``start``; returns when it fires and each success time."""
    done: dict[str, dt.datetime] = {}
    for name, (_aliases, base, width) in processors.items():
        done[name] = start + dt.timedelta(minutes=base + rng.randint(0, width))
    for name, (aliases, _base, _width) in processors.items():
        if rng.random() < P_RETRY:
            failed_at = done[name] - dt.timedelta(minutes=4 + rng.randint(0, 5))
            message(rng, events, failed_at, rng.choice(aliases), date, "failed")
        message(rng, events, done[name], rng.choice(aliases), date, "success")
    fired = max(done.values())
    for _name, (aliases, _base, _width) in processors.items():
        if rng.random() < P_REPEAT:
            again = fired + dt.timedelta(minutes=30 + rng.randint(0, 120))
            message(rng, events, again, rng.choice(aliases), date, "success", repeat=True)
    return fired, done


def message(rng: random.Random, events: list[tuple[dt.datetime, str]], at: dt.datetime,
            name: str, date: str, status: str, repeat: bool = False) -> None:
    payload = f"publish: {{processor_name: {name}, game_date: {date}, status: {status}}}"
    when = duration(at - START_LOCAL.astimezone(UTC))
    note = "  # a rerun after the trigger" if repeat else ""
    if rng.random() < P_REDELIVERY:
        identity = f"m-{date}-{len(events)}"
        again = at + dt.timedelta(minutes=rng.randint(0, 4))
        events.append((at, f"  - {{at: {when}, message_id: {identity}, {payload}}}"))
        events.append((again, f"  - {{at: {duration(again - START_LOCAL.astimezone(UTC))}, "
                              f"message_id: {identity}, {payload}}}  # redelivered"))
        return
    events.append((at, f"  - {{at: {when}, {payload}}}{note}"))


def generate() -> str:
    rng = random.Random(SEED)
    lines: list[str] = []
    expect: list[str] = []
    game_nights = quiet_nights = 0
    for index in range(NIGHTS):
        day = FIRST_NIGHT + dt.timedelta(days=index)
        date = day.isoformat()
        no_games = rng.random() < P_NO_GAMES and day not in ALWAYS_GAMES
        if no_games:
            quiet_nights += 1
            lines.append(f"  # {date}: no games")
            continue
        game_nights += 1
        if day in ALWAYS_GAMES:  # a late West Coast game: phases run through the DST change
            after = day + dt.timedelta(days=1)
            end = (dt.datetime(after.year, after.month, after.day, 0, 30, tzinfo=ZONE)
                   .astimezone(UTC) + dt.timedelta(minutes=rng.randint(0, 40)))
        else:
            end = (dt.datetime(day.year, day.month, day.day, 22, 20, tzinfo=ZONE)
                   .astimezone(UTC) + dt.timedelta(minutes=rng.randint(0, 80)))
        events: list[tuple[dt.datetime, str]] = []
        fired2, done2 = phase(rng, PHASE2, end, date, events)
        fired3, done3 = phase(rng, PHASE3, fired2, date, events)
        first2, first3 = min(done2.values()), min(done3.values())
        lines.append(f"  # {date}: last game ends {local(end)}; phase 2 from {local(first2)}, "
                     f"fires {local(fired2)}; phase 3 from {local(first3)}, fires "
                     f"{local(fired3)}")
        lines += [text for _at, text in sorted(events, key=lambda item: item[0])]
        start = START_LOCAL.astimezone(UTC)
        for transition, fired in (("phase2_to_phase3", fired2), ("phase3_to_phase4", fired3)):
            at = duration(fired - start)
            expect.append(f"  - {{triggered: {transition}, run_key: {date}, "
                          f"between: [{at}, {at}]}}")
    until = duration(UNTIL_LOCAL.astimezone(UTC) - START_LOCAL.astimezone(UTC))
    header = (
        "# GENERATED by scenarios/generate_normal_month.py (seed "
        f"{SEED}); do not edit by hand.\n"
        "# Regenerate: python scenarios/generate_normal_month.py; "
        "tests/test_normal_month.py runs --check.\n"
        "description: >\n"
        f"  A month of normal traffic ({FIRST_NIGHT} .. "
        f"{FIRST_NIGHT + dt.timedelta(days=NIGHTS - 1)}: {game_nights} game nights, "
        f"{quiet_nights} without games)\n"
        "  through phase 2 (six processors) -> phase 3 (three) -> phase 4, with jitter, quick\n"
        "  retries after a failure, Pub/Sub redeliveries, reruns after the trigger, and the end\n"
        "  of daylight saving time (2026-11-01) inside it. The jitter stays inside what the\n"
        "  early rules tolerate (see the generator's docstring), so nothing may alert, and\n"
        "  both transitions fire every game night when their last processor completes.\n")
    return (header + REGISTRY
            + f"start: {START_LOCAL.isoformat()}\ncanary_every: 15m\nuntil: {until}\n"
            + "events:\n" + "\n".join(lines) + "\nexpect:\n" + "\n".join(expect)
            + "\n  - no_other_alerts\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed file differs from the generator's output")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else None
        if current != text:
            print(f"{OUTPUT.name} differs from the generator's output; run "
                  f"python scenarios/generate_normal_month.py", file=sys.stderr)
            return 1
        print(f"{OUTPUT.name} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
