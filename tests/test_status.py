"""``phasegate status``: the grid (pure, against the canary's own run), its three reporters,
and the command line on the Firestore emulator.

The seeded day (:func:`seed_day`) is shared with the function and browser tests:
2026-02-09 has a LATE transition (one processor missing, its status a
``<script>``) and a STUCK one, the two nights before fired, the night before
those holds an unreadable document, and an unknown name carries a ``<script>``.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from phasegate.canary.evaluate import Settings
from phasegate.canary.run import run_once
from phasegate.status.command import Style, render, wants_colour
from phasegate.status.grid import Grid, View, build_grid, read_keys, unreadable_grid
from phasegate.status.render_html import breakable
from phasegate.status.render_text import cell_text, shorten
from tests.conftest import REPO, run_phasegate

EXPECTED = json.loads((REPO / "canary" / "expected.json").read_text())
PHASE2 = EXPECTED["transitions"]["phase2_to_phase3"]["expected"]
PHASE3 = EXPECTED["transitions"]["phase3_to_phase4"]["expected"]
NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 2, 10, 7, 0, tzinfo=dt.UTC)  # 02:00 in New York
NOW_ARG = "2026-02-10T07:00:00+00:00"
FIRST = dt.datetime(2026, 2, 10, 2, 0, tzinfo=dt.UTC)  # the LATE night's first completion
FIRED = {"2026-02-08": dt.datetime(2026, 2, 9, 8, 12, tzinfo=dt.UTC),  # 03:12 local
         "2026-02-07": dt.datetime(2026, 2, 8, 8, 40, tzinfo=dt.UTC)}  # 03:40 local
SCRIPT = "<script>alert(1)</script>"
COLLECTIONS = {"phase2_to_phase3": "phase2_completion", "phase3_to_phase4": "phase3_completion"}


def settings(**canary: Any) -> Settings:
    data = copy.deepcopy(EXPECTED)
    data["canary"].update(canary)
    return Settings(data, frozenset(data["calendar"]))


def seeded_documents(hostile: bool = True) -> dict[tuple[str, str], dict[str, Any]]:
    """The seeded day's documents by (collection, run key); ``hostile``: a status and an
    unknown name hold a ``<script>`` (otherwise a plain failure and a misspelt alias)."""
    late = {n: {"status": "success", "completed_at": FIRST} for n in PHASE2[:-1]}
    late[PHASE2[-1]] = {"status": f"failed{SCRIPT}" if hostile else "failed",
                        "recorded_at": FIRST}
    unknown = SCRIPT if hostile else "OddsApiPropsProcesor"
    late[unknown] = {"status": "success", "completed_at": FIRST}
    late["_first_completion_at"] = FIRST
    stuck: dict[str, Any] = {n: {"status": "success", "completed_at": FIRST} for n in PHASE3}
    stuck.update(_first_completion_at=FIRST, _last_completion_at=FIRST)
    documents = {("phase2_completion", "2026-02-09"): late,
                 ("phase3_completion", "2026-02-09"): stuck,
                 ("phase2_completion", "2026-02-06"): {"_first_completion_at": 42}}
    for key, at in FIRED.items():
        for collection, names in (("phase2_completion", PHASE2), ("phase3_completion", PHASE3)):
            body: dict[str, Any] = {n: {"status": "success", "completed_at": at} for n in names}
            body.update(_first_completion_at=at, _triggered=True, _triggered_at=at,
                        _trigger_reason="all_complete")
            documents[(collection, key)] = body
    return documents


def seed_day(project: str, hostile: bool = True) -> None:
    """Write :func:`seeded_documents` to the emulator's ``project``."""
    from google.cloud import firestore

    client = firestore.Client(project=project)
    batch = client.batch()
    for (collection, key), body in seeded_documents(hostile).items():
        batch.set(client.collection(collection).document(key), body)
    batch.commit()


class FakeStore:
    """The canary store's reads over a dict, counting them as the real one does."""

    def __init__(self, documents: Mapping[tuple[str, str], Any]) -> None:
        self.documents = documents
        self.calls: Counter[str] = Counter()

    def read_documents(self, wanted: Any) -> dict[tuple[str, str], Any]:
        self.calls["reads"] += 1
        return {pair: self.documents.get(pair) for pair in wanted}

    def read_incidents(self) -> dict[str, Any]:
        self.calls["reads"] += 1
        return {}


def grid_of(documents: Mapping[tuple[str, str], Any], days: int = 7,
            given: Settings | None = None, now: dt.datetime = NOW) -> Grid:
    view = View.of(given or settings(), now)
    return build_grid(view, {w: documents.get(w) for w in view.wanted(days)}, now, days)


def cells(grid: Grid) -> dict[tuple[str, str], Any]:
    return {(row.name, cell.run_key): cell for row in grid.rows for cell in row.cells}


# == the grid: the canary's own evaluation ==========================================

def test_the_grid_shows_each_state_with_its_firing_time_and_missing_names():
    grid = grid_of(seeded_documents())
    assert grid.run_keys == tuple(f"2026-02-{d:02d}" for d in range(3, 12))
    assert grid.today == "2026-02-10" and grid.timezone == "America/New_York"
    assert [row.name for row in grid.rows] == ["phase2_to_phase3", "phase3_to_phase4"]
    found = cells(grid)
    late = found[("phase2_to_phase3", "2026-02-09")]
    assert late.state == "LATE" and late.alerting and late.state_alerting
    assert [m.name for m in late.missing] == [PHASE2[-1]]
    assert [w.state for w in late.warnings] == ["UNKNOWN_NAMES"]
    assert found[("phase3_to_phase4", "2026-02-09")].state == "STUCK"
    fired = found[("phase2_to_phase3", "2026-02-08")]
    assert fired.state == "TRIGGERED" and not fired.alerting
    assert fired.triggered_at == FIRED["2026-02-08"].astimezone(NY)
    assert fired.triggered_at is not None and fired.triggered_at.strftime("%H:%M") == "03:12"
    assert fired.reason == "all_complete"
    assert found[("phase2_to_phase3", "2026-02-06")].state == "UNREADABLE"
    assert found[("phase2_to_phase3", "2026-02-03")].state == "NO_DATA"
    assert grid.alerting


def test_the_grid_reads_the_learning_window_in_one_list_and_shows_only_the_days_asked():
    given = settings()
    view = View.of(given, NOW)
    wanted = view.wanted(7)
    keys = read_keys(dt.date(2026, 2, 10), given, 7)
    assert keys[0] == "2026-01-20" and keys[-1] == "2026-02-11"  # 7 + 14 learning days back
    assert wanted == [(c, k) for c in COLLECTIONS.values() for k in keys]
    assert len(grid_of({}, days=0).run_keys) == 2  # today and tomorrow


def _history(until: dt.date, nights: int) -> dict[tuple[str, str], dict[str, Any]]:
    """Finished nights: every phase 2 processor completed minutes after the first."""
    documents = {}
    for back in range(1, nights + 1):
        day = until - dt.timedelta(days=back)
        first = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1), tzinfo=NY)
        body: dict[str, Any] = {n: {"status": "success",
                                    "completed_at": first + dt.timedelta(minutes=2 * i)}
                                for i, n in enumerate(PHASE2)}
        body.update(_first_completion_at=first, _triggered=True, _triggered_at=first)
        documents[("phase2_completion", day.isoformat())] = body
    return documents


def test_early_late_and_every_state_are_the_canarys_own():
    """Before the deadline, the learned rule says LATE: only the learning window (read in
    the same batched get) can say so; the grid agrees with a dry canary run on every
    check of its lookback, detail included."""
    documents = _history(dt.date(2026, 2, 9), 20)
    seeded = seeded_documents()
    for pair in (("phase3_completion", "2026-02-09"), ("phase2_completion", "2026-02-06")):
        documents[pair] = seeded[pair]  # a STUCK one, an UNREADABLE one (no evidence)
    first = dt.datetime(2026, 2, 10, 1, 0, tzinfo=NY)  # an hour ago: the deadline is 4 h
    early = {n: {"status": "success", "completed_at": first} for n in PHASE2[:-1]}
    early["_first_completion_at"] = first
    documents[("phase2_completion", "2026-02-09")] = early
    store = FakeStore(documents)
    given = settings(lookback_days=7)
    result = run_once(store, given, NOW, dry_run=True, stream=io.StringIO())
    grid = grid_of(documents, 7, given)
    found = cells(grid)
    late = found[("phase2_to_phase3", "2026-02-09")]
    assert late.state == "LATE" and late.missing[0].early is not None
    assert late.missing[0].early.startswith("learned")
    for check in result.checks:
        cell = found[(check.transition, check.run_key)]
        if check.state in ("UNKNOWN_NAMES", "STALE_REGISTRY", "MIRROR_FAILED"):
            assert check.state in [w.state for w in cell.warnings]
        else:
            assert (cell.state, cell.detail, cell.missing) == (
                check.state, check.detail, check.missing), check


def test_the_learned_times_are_shown_in_every_format():
    """Issue 15: what an early LATE is measured against, for today's run key."""
    from phasegate.canary.early import EarlyRules, usual_times
    from phasegate.canary.evaluate import history_of

    documents = _history(dt.date(2026, 2, 9), 20)
    grid = grid_of(documents, 3)
    [phase2] = [row for row in grid.rows if row.name == "phase2_to_phase3"]
    mine = {k: d for (c, k), d in documents.items() if c == "phase2_completion"}
    given = settings()
    known = usual_times(grid.today, history_of("phase2_to_phase3", mine, given),
                        given.expectations["aliases"], EarlyRules.of(given.canary))
    assert [item.processor for item in phase2.learned] == sorted(
        name for name in known if name in PHASE2)
    assert phase2.learned and all(item.usual == known[item.processor]
                                  for item in phase2.learned)
    first = phase2.learned[0]
    data = json.loads(render(grid, "json"))
    [entry] = [t for t in data["transitions"] if t["name"] == "phase2_to_phase3"]
    assert entry["learned"][0] == {"processor": first.processor,
                                   "latest_s": first.usual.latest.total_seconds(),
                                   "median_s": first.usual.median.total_seconds(),
                                   "samples": first.usual.samples}
    assert first.text in render(grid, "text")
    assert f"Learned completion times for {grid.today}" in render(grid, "html")


def test_no_transitions_is_an_empty_grid_with_an_explanation():
    data = copy.deepcopy(EXPECTED)
    data["transitions"] = {}
    grid = grid_of({}, given=Settings(data))
    assert grid.rows == () and len(grid.run_keys) == 9 and not grid.alerting
    assert "no transitions" in (grid.empty_reason or "")
    assert View.of(Settings(data), NOW).wanted(7) == []  # nothing to read
    for output_format in ("text", "json", "html"):
        assert "no transitions" in render(grid, output_format)


def test_unusable_settings_are_problems_not_a_crash():
    data = copy.deepcopy(EXPECTED)
    data["timezone"] = "Mars/Olympus"
    data["transitions"]["phase2_to_phase3"]["deadline_minutes"] = float("nan")
    grid = grid_of({}, given=Settings(data))
    assert grid.run_keys == () and grid.alerting
    assert any("Mars/Olympus" in p for p in grid.problems)
    data["timezone"] = "America/New_York"
    grid = grid_of({}, given=Settings(data))
    [skipped] = [row for row in grid.rows if row.note]
    assert skipped.name == "phase2_to_phase3" and skipped.cells == ()
    for output_format in ("text", "json", "html"):
        assert "not checked" in render(grid, output_format)


# == reporters =======================================================================

def test_text_is_a_grid_with_symbols_a_legend_and_the_missing_names():
    text = render(grid_of(seeded_documents()), "text")
    lines = text.splitlines()
    assert "\x1b[" not in text
    [row] = [line for line in lines if line.startswith("phase2_to_phase3 ")]
    assert "✓ 03:12" in row and "! -1⚠" in row and "?" in row
    assert any(line.startswith("legend: ") and "! LATE" in line and "■ STUCK" in line
               for line in lines)
    assert "        ⚠ warning beside the state: UNKNOWN_NAMES, STALE_REGISTRY, MIRROR_FAILED" \
        in lines  # the same words as the page's legend
    assert f"    missing: {PHASE2[-1]}" in lines
    assert any(line.startswith("■ phase3_to_phase4 2026-02-09 STUCK:") for line in lines)
    assert lines[-1] == "3 alerting cells"
    assert max(len(line) for line in lines if not line.startswith(("!", "?", "■", "⚠"))) <= 110


def test_text_colour_only_when_asked_and_ascii_when_the_stream_needs_it():
    grid = grid_of(seeded_documents())
    coloured = render(grid, "text", Style(colour=True))
    assert "\x1b[1;31m" in coloured and "\x1b[0m" in coloured
    plain = render(grid, "text", Style(ascii_only=True))
    assert plain.isascii() or all(ch.isascii() for ch in plain.replace("…", ""))
    assert "legend: + TRIGGERED" in plain

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wants_colour(Tty(), {}) and not wants_colour(Tty(), {"NO_COLOR": "1"})
    assert not wants_colour(io.StringIO(), {})


def test_long_names_are_shortened_in_the_text_grid():
    name = "phase2_" + "x" * 60 + "_to_phase3"
    assert len(shorten(name)) == 28 and shorten(name).startswith("phase2_")
    assert shorten(name).endswith("_to_phase3")
    data = copy.deepcopy(EXPECTED)
    data["transitions"] = {name: data["transitions"]["phase2_to_phase3"]}
    text = render(grid_of({}, given=Settings(data)), "text")
    assert shorten(name) in text and name not in text.split("alerting")[0]


def test_cell_text_gives_the_time_or_the_missing_count():
    found = cells(grid_of(seeded_documents()))
    assert cell_text(found[("phase2_to_phase3", "2026-02-07")]) == "✓ 03:40"
    assert cell_text(found[("phase2_to_phase3", "2026-02-09")], ascii_only=True) == "! -1^"
    assert cell_text(found[("phase3_to_phase4", "2026-02-09")]) == "■"


def test_json_has_the_documented_shape():
    data = json.loads(render(grid_of(seeded_documents()), "json"))
    assert set(data) == {"format", "generated_at", "registry_digest", "pipeline", "timezone",
                         "today", "run_keys", "alerting", "error", "problems", "empty_reason",
                         "transitions"}
    assert data["format"] == 1 and data["generated_at"] == NOW_ARG
    assert data["registry_digest"] == EXPECTED["registry_digest"]
    [phase2, phase3] = data["transitions"]
    assert set(phase2) == {"name", "note", "cells", "learned"}
    cell = {c["run_key"]: c for c in phase2["cells"]}
    assert set(cell["2026-02-09"]) == {"run_key", "state", "alerting", "detail", "missing",
                                       "triggered_at", "reason", "warnings", "mode", "quiet"}
    assert cell["2026-02-09"]["missing"][0]["name"] == PHASE2[-1]
    assert cell["2026-02-09"]["warnings"][0]["state"] == "UNKNOWN_NAMES"
    assert cell["2026-02-08"]["triggered_at"] == "2026-02-09T03:12:00-05:00"
    assert cell["2026-02-08"]["reason"] == "all_complete"
    assert [c["state"] for c in phase3["cells"]][6] == "STUCK"


class Page(HTMLParser):
    """What a test needs from the page: tags, attributes, and the text of each cell."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[str] = []
        self.columns: list[str] = []
        self.cells: list[tuple[dict[str, str | None], str]] = []
        self.captions: list[str] = []
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("th", "td", "caption"):
            self._open.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, attrs, text = self._open.pop()
            joined = " ".join("".join(text).split())
            if tag == "caption":
                self.captions.append(joined)
            elif tag == "td":
                self.cells.append((attrs, joined))
            elif attrs.get("scope") == "row":
                self.rows.append(joined)
            elif attrs.get("scope") == "col":
                self.columns.append(joined)

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def test_html_is_one_accessible_self_contained_page():
    page = render(grid_of(seeded_documents()), "html")
    parsed = parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "table" in tags and len(parsed.captions) == 1
    assert "script" not in tags and "img" not in tags
    # one link only: an empty inline icon, so that no browser asks the function for one
    assert [a for t, a in parsed.tags if t == "link"] == [{"rel": "icon", "href": "data:,"}]
    assert not any(k in ("src", "href", "action") for tag, attrs in parsed.tags
                   for k in attrs if tag != "link")
    assert "url(" not in page and "@import" not in page and "http://" not in page
    assert "https://" not in page
    assert parsed.rows == ["phase2_to_phase3", "phase3_to_phase4"]
    assert parsed.columns[0] == "Transition" and len(parsed.columns) == 10
    assert "2026-02-10 Tue (today)" in parsed.columns
    late = [text for attrs, text in parsed.cells if "s-LATE" in (attrs.get("class") or "")]
    assert late == [f"! LATE ALERT missing 1 {PHASE2[-1]} ⚠ UNKNOWN_NAMES (alert)"]
    stuck = [text for attrs, text in parsed.cells if "s-STUCK" in (attrs.get("class") or "")]
    assert stuck == ["■ STUCK ALERT complete, not fired"]
    assert EXPECTED["registry_digest"] in page and "2026-02-10 02:00 EST" in page
    assert "(2026-02-10 07:00 UTC)" in page


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(text: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(text), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_html_text_has_at_least_7_to_1_contrast_on_every_state_tint():
    import re

    from phasegate.status.render_html import STYLE

    tints = re.findall(r"\.s-(\w+)\{background:(#[0-9a-f]{6})(?:;color:(#[0-9a-f]{6}))?", STYLE)
    assert {state for state, _, _ in tints} >= {"TRIGGERED", "WAITING", "LATE", "STUCK",
                                                 "MISSING_RUN", "UNREADABLE", "NO_DATA"}
    for state, background, text in tints:
        assert contrast(text or "#111111", background) >= 7, state
        assert contrast("#5c3b00", background) >= 4.5, state  # a warning's text
        assert contrast("#8a0000", "#ffffff") >= 7  # the ALERT badge


def test_html_escapes_every_string_from_a_document():
    page = render(grid_of(seeded_documents()), "html")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the unknown name
    assert "failed&lt;script&gt;alert(1)&lt;/script&gt;" in page  # a processor's status
    assert "script" not in [tag for tag, _ in parse(page).tags]
    assert breakable("a_b<c") == "a_b&lt;c" and breakable("a_b<c", 3) == "a_<wbr>b&lt;c"


def test_html_when_firestore_cannot_be_read_says_so_with_the_reason():
    view = View.of(settings(), NOW)
    grid = unreadable_grid(view, NOW, 7, "no Google credentials were found <here>")
    page = render(grid, "html")
    assert "Firestore could not be read" in page and "credentials were found &lt;here&gt;" in page
    assert "<table" not in page and "<script" not in page
    assert grid.alerting is False and grid.error
    assert "Firestore could not be read" in render(grid, "text")
    assert json.loads(render(grid, "json"))["error"].startswith("no Google credentials")


def test_a_name_or_status_with_control_characters_cannot_drive_a_terminal():
    documents = seeded_documents()
    documents[("phase2_completion", "2026-02-09")]["\x1b[2Jwiped"] = {"status": "success"}
    text = render(grid_of(documents), "text")
    assert "\x1b[2J" not in text and "\\x1b[2Jwiped" in text


# == the command line, against the emulator ==========================================

def emulator_env(project: str, emulators: Mapping[str, str], **extra: str) -> dict[str, str]:
    return {"GOOGLE_CLOUD_PROJECT": project, "NO_GCE_CHECK": "True",
            "FIRESTORE_EMULATOR_HOST": emulators["firestore"], **extra}


def no_credentials_env(tmp_path: Path) -> dict[str, str]:
    """No way to find Google credentials or an emulator (and no metadata server probe)."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "GOOGLE_APPLICATION_CREDENTIALS", "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST",
        "PHASEGATE_REGISTRY", "GCE_METADATA_HOST", "GCE_METADATA_IP", "CLOUDSDK_CONFIG",
        "GOOGLE_CLOUD_PROJECT")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(NO_GCE_CHECK="True", HOME=str(home), CLOUDSDK_CONFIG=str(home / "gcloud"))
    return env


def run_exactly(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command line with exactly ``env`` (run_phasegate adds the session's emulator
    variables, which a test of "no Firestore" must not have)."""
    return subprocess.run([sys.executable, "-m", "phasegate", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_command_line_in_all_three_formats(project_id, emulators):
    seed_day(project_id)
    env = emulator_env(project_id, emulators)
    text = run_phasegate("status", "--now", NOW_ARG, env=env)
    assert text.returncode == 1, text.stderr
    assert text.stderr == "" and "\x1b[" not in text.stdout
    assert "phase2_to_phase3" in text.stdout and "! -1" in text.stdout
    assert f"missing: {PHASE2[-1]}" in text.stdout
    data = json.loads(run_phasegate("status", "--now", NOW_ARG, "--format", "json",
                                    "--days", "2", env=env).stdout)
    assert data["run_keys"] == ["2026-02-08", "2026-02-09", "2026-02-10", "2026-02-11"]
    states = {(t["name"], c["run_key"]): c["state"] for t in data["transitions"]
              for c in t["cells"]}
    assert states[("phase2_to_phase3", "2026-02-09")] == "LATE"
    assert states[("phase3_to_phase4", "2026-02-09")] == "STUCK"
    assert states[("phase2_to_phase3", "2026-02-08")] == "TRIGGERED"
    html = run_phasegate("status", "--now", NOW_ARG, "--format", "html", env=env)
    assert html.returncode == 1 and html.stdout.startswith("<!DOCTYPE html>")
    assert html.stdout.isascii() and "&lt;script&gt;" in html.stdout
    assert "<script" not in html.stdout.lower()


def test_command_line_exits_0_when_nothing_alerts(project_id, emulators):
    seed = {k: v for k, v in seeded_documents().items() if k[1] in FIRED}
    from google.cloud import firestore

    client = firestore.Client(project=project_id)
    for (collection, key), body in seed.items():
        client.collection(collection).document(key).set(body)
    result = run_phasegate("status", "--now", NOW_ARG, env=emulator_env(project_id, emulators))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("0 alerting cells")


def test_command_line_reads_once_and_writes_nothing(project_id, emulators, monkeypatch):
    """In process, counting the store's calls; the canary's collections stay empty."""
    from google.cloud import firestore

    from phasegate.canary.store import CANARY, INCIDENTS, CanaryStore
    from phasegate.registry.loading import load_registry
    from phasegate.status.command import status_command

    seed_day(project_id)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulators["firestore"])
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    made: list[CanaryStore] = []
    original = CanaryStore.__init__

    def counting(self: CanaryStore, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(CanaryStore, "__init__", counting)
    out, err = io.StringIO(), io.StringIO()
    loaded = load_registry(REPO / "registry" / "processors.yaml", "registry/processors.yaml")
    code = status_command(loaded, REPO, project=project_id, days=7, now=NOW,
                          output_format="json", out=out, err=err)
    assert code == 1, err.getvalue()
    [store] = made
    assert dict(store.calls) == {"reads": 1}
    client = firestore.Client(project=project_id)
    assert list(client.collection(INCIDENTS).stream()) == []
    assert list(client.collection(CANARY).stream()) == []


def test_no_firestore_exits_3_and_html_still_writes_a_page(tmp_path):
    from tests.emulators import require_gcp

    require_gcp()
    env = no_credentials_env(tmp_path)
    for output_format in ("text", "json"):
        result = run_exactly("status", "--format", output_format, "--project", "p", env=env)
        assert result.returncode == 3, result.stderr
        assert result.stdout == "" and "Traceback" not in result.stderr
        assert result.stderr.startswith("phasegate: error: cannot read Firestore: ")
        assert "credentials" in result.stderr and result.stderr.count("\n") == 1
    page = run_exactly("status", "--format", "html", "--project", "p", env=env)
    assert page.returncode == 3 and "Traceback" not in page.stderr
    assert "<h2>Firestore could not be read</h2>" in page.stdout
    assert "credentials" in page.stdout and page.stdout.rstrip().endswith("</html>")


def test_an_empty_registry_section_is_an_empty_grid_not_a_traceback(repo_dir, tmp_path):
    repo_dir("""
        version: 1
        pipeline: empty
        timezone: Europe/Paris
        scrapers:
          s1:
            enabled: true
        processors:
          p1:
            phase: 2
            inputs: [s1]
        transitions: {}
        """)
    env = no_credentials_env(tmp_path)  # nothing to read: no Firestore needed
    root = str(repo_dir.root)
    text = run_exactly("status", "--root", root, "--now", NOW_ARG, env=env)
    assert text.returncode == 0, text.stderr
    assert "(empty grid) the registry defines no transitions" in text.stdout
    page = run_exactly("status", "--root", root, "--format", "html", "--now", NOW_ARG, env=env)
    assert page.returncode == 0 and "Traceback" not in page.stderr
    assert "the registry defines no transitions" in page.stdout and "<table>" in page.stdout
    data = json.loads(run_exactly("status", "--root", root, "--format", "json", env=env).stdout)
    assert data["transitions"] == [] and data["empty_reason"]


def test_usage_errors_exit_2(repo_dir, tmp_path):
    for args in (("--days", "-1"), ("--days", "400"), ("--format", "svg")):
        result = run_phasegate("status", *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr
    repo_dir("version: 1\npipeline: [\n")
    broken = run_exactly("status", "--root", str(repo_dir.root),
                         env=no_credentials_env(tmp_path))
    assert broken.returncode == 2 and "Traceback" not in broken.stderr


def test_colour_on_a_terminal_only_and_never_with_no_color(project_id, emulators):
    import pty

    seed_day(project_id)
    env = {**os.environ, **emulator_env(project_id, emulators)}
    env.pop("NO_COLOR", None)
    env.pop("PHASEGATE_REGISTRY", None)

    def on_a_terminal(extra: dict[str, str]) -> str:
        main, secondary = pty.openpty()
        try:
            done = subprocess.run([sys.executable, "-m", "phasegate", "status", "--now",
                                   NOW_ARG], cwd=REPO, env={**env, **extra}, stdout=secondary,
                                  stderr=subprocess.PIPE, timeout=60)
            os.close(secondary)
            secondary = -1
            chunks = []
            while True:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the terminal closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(main)
            if secondary >= 0:
                os.close(secondary)
        assert done.returncode == 1, done.stderr
        return b"".join(chunks).decode("utf-8", "replace")

    assert "\x1b[1;31m" in on_a_terminal({})
    plain = on_a_terminal({"NO_COLOR": "1"})
    assert "\x1b[" not in plain and "phase2_to_phase3" in plain
