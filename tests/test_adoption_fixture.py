"""Adopting phasegate in a real-shaped pipeline repository: every drift found, no noise.

tests/fixtures/adoption-repo/ reproduces what a first run on a real pipeline
repository (about 2,000 Python files, 8 Cloud Functions) showed: routing and
dependency tables, `__all__` lists, code that already switches a name off, a
disabled processor's own module, Cloud Function folders whose `shared/` is a
symlink to the top-level `shared/`, and another pipeline's package (MLB) in
the same repository must not be findings at error level; the real drift
(copies of an expected set, one spelt as table names, scraper names passed to
a backfill job, a second config's `enabled:` flags, a misspelt name) must be
found, each at its place. docs/adoption.md walks through the same repository.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run_phasegate

FIXTURE = REPO / "tests" / "fixtures" / "adoption-repo"
BASELINE = "validator/baseline.json"

EXPECTED = [
    "bin/backfill/backfill_scrapers.py:19:21: error PG203 [unknown-name]",
    "config/scraper_retry_config.yaml:21:3: error PG209 [enablement-disagrees]",
    "config/scraper_retry_config.yaml:24:3: error PG209 [enablement-disagrees]",
    "data_processors/analytics/player_game_summary_processor.py:6:41: error PG203 [unknown-name]",
    "data_processors/analytics/player_game_summary_processor.py:16:5: "
    "error PG204 [disabled-referenced]",
    "monitoring/phase2_completeness.py:6:17: error PG208 [drifted-copy]",
    "orchestration/cloud_functions/phase2_to_phase3/main.py:9:34: error PG208 [drifted-copy]",
    "orchestration/cloud_functions/phase2_to_phase3/main.py:15:9: "
    "error PG204 [disabled-referenced]",
    "shared/config/orchestration_config.py:6:30: warning PG202 [copied-expectation]",
]

# Files that hold a pattern that looks like drift and is not; none may have an error.
NOISE = {
    "data_processors/raw/__init__.py": "__all__ naming every phase 2 class",
    "data_processors/raw/main_processor_service.py": "routing tables: name -> class, -> [name]",
    "scrapers/scraper_registry.py": "routing table: scraper name -> class",
    "data_processors/analytics/main_analytics_service.py": "dispatch map: table -> [classes]",
    "orchestration/cloud_functions/phase3_to_phase4/main.py":
        "dispatch map {'player_game_summary': [...]}",
    "data_processors/precompute/precompute_processors.py": "dependency levels of every phase",
    "data_processors/analytics/team_summary_processors.py": "RELEVANT_SOURCES with None",
    "data_processors/analytics/upcoming_context_processor.py": "RELEVANT_SOURCES",
    "data_processors/raw/balldontlie/bdl_player_boxscores_processor.py":
        "the disabled processor's own module",
    "shared/utils/bigquery.py": "an archive table whose name only starts like a disabled one",
    "bin/backfill/republish_completions.py": "names passed by alias and by output table",
    "data_processors/raw/mlb/mlb_processors.py": "the MLB pipeline (excluded)",
    "scrapers/mlb/mlb_scrapers.py": "the MLB pipeline (excluded)",
    "bin/mlb/backfill_mlb.py": "the MLB pipeline (excluded)",
}
FUNCTIONS = ("phase2_to_phase3", "phase3_to_phase4")


def _copy(tmp_path: Path) -> Path:
    """A copy of the fixture, symlinks kept, with its generated module rewritten: whether the
    committed one is current is test_generated_artifact_is_current's business alone."""
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy, symlinks=True)
    generated = run_phasegate("generate", "--root", str(copy))
    assert generated.returncode == 0, generated.stderr
    return copy


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return _copy(tmp_path)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> list[dict]:
    """The findings (JSON) of one run on an unchanged copy, shared by the read-only tests."""
    return _json(_copy(tmp_path_factory.mktemp("first-run")))["findings"]


def _places(stdout: str) -> list[str]:
    return [line.split("] ", 1)[0] + "]" for line in stdout.splitlines()]


def _json(repo: Path, *args: str) -> dict:
    result = run_phasegate("validate", "--root", str(repo), "--format", "json", *args, cwd=repo)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _edit_registry(repo: Path, old: str, new: str) -> None:
    """Change the registry and regenerate (the digest covers references too)."""
    _edit(repo / "registry" / "processors.yaml", old, new)
    assert run_phasegate("generate", "--root", str(repo)).returncode == 0


def _line_of(path: Path, text: str) -> int:
    [number] = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return number


# ---- the fixture as committed ----------------------------------------------------------------


def test_the_copy_keeps_the_shared_symlinks(repo):
    for function in FUNCTIONS:
        link = repo / "orchestration" / "cloud_functions" / function / "shared"
        assert link.is_symlink(), link
        assert os.readlink(link) == "../../../shared"
        assert link.resolve() == (repo / "shared").resolve()


def test_generated_artifact_is_current():
    result = run_phasegate("generate", "--root", str(FIXTURE), "--check")
    assert result.returncode == 0, (
        "the fixture's generated module is stale; run "
        "`python -m phasegate generate --root tests/fixtures/adoption-repo`\n" + result.stdout)


def test_registry_itself_is_clean(first_run):
    assert [f for f in first_run if f["path"] == "registry/processors.yaml"] == []


def test_every_drift_is_found_at_its_place(repo):
    result = run_phasegate("validate", "--root", str(repo))
    assert result.returncode == 1, result.stderr
    assert _places(result.stdout) == EXPECTED, result.stdout
    assert "8 error(s), 1 warning(s)" in result.stderr
    out = result.stdout
    # a misspelt name, with its hint
    assert ("'p2_nbacom_player_boxscore' looks like a registry name but is not in the "
            "registry; did you mean 'p2_nbacom_player_boxscores'?") in out
    # references.calls: a scraper name that no longer exists, passed to the backfill's function
    assert ("'nbac_play_by_play' is passed where a scraper name belongs but is not a scraper "
            "in the registry") in out
    # outputs: the expected list spelt as table names, drifted
    assert ("monitoring/phase2_completeness.py:6:17: error PG208 [drifted-copy] this list is a "
            "drifted copy of phase2_to_phase3 expected and phase2_to_phase3 required: lacks "
            "p2_nbacom_injury_report (enabled)") in out
    # the fallback copy still holds the retired processor; the correct copy is a warning
    assert ("holds p2_bdl_player_boxscores (disabled: input scraper retired; scraper "
            "bdl_player_boxscores: Ball Don't Lie API retired) which the set does not; lacks "
            "p2_nbacom_injury_report (enabled)") in out
    assert ("`from orchestrator.expected_processors import EXPECTED_PROCESSORS` "
            "(EXPECTED_PROCESSORS['phase2_to_phase3'])") in out
    # PG209 both ways
    assert ("config/scraper_retry_config.yaml disables 'odds_api_player_props', which the "
            "registry enables") in out
    assert ("config/scraper_retry_config.yaml enables 'bdl_player_boxscores', which the "
            "registry disables (scraper bdl_player_boxscores is disabled: Ball Don't Lie API "
            "retired, since 2026-02-07)") in out
    # a query on the retired table, found inside the SQL string
    assert "this string mentions 'nba_raw.bdl_player_boxscores'" in out


@pytest.mark.parametrize("path", sorted(NOISE))
def test_noise_pattern_has_no_error(first_run, path):
    assert (FIXTURE / path).is_file(), path
    errors = [f for f in first_run if f["path"] == path and f["severity"] == "error"]
    assert errors == [], f"{NOISE[path]}: {errors}"
    assert [f for f in first_run if f["path"] == path] == []  # nor a warning


def test_code_that_switches_a_name_off_is_not_a_finding(first_run):
    relative = "data_processors/analytics/player_game_summary_processor.py"
    switched_off = _line_of(FIXTURE / relative, '"bdl_player_boxscores": False')
    assert [f for f in first_run if f["path"] == relative and f["line"] == switched_off] == []


def test_shared_findings_appear_once_under_the_real_path(first_run):
    copies = [f for f in first_run if f["rule"] == "PG202"]
    assert [(f["path"], f["line"]) for f in copies] == [("shared/config/orchestration_config.py", 6)]
    assert not [f for f in first_run if "/shared/" in f["path"]]


def test_the_adoption_guide_shows_the_real_first_run(repo):
    guide = (REPO / "docs" / "adoption.md").read_text()
    block = guide.split("$ phasegate validate\n", 1)[1].split("```", 1)[0]
    result = run_phasegate("validate", cwd=repo)
    assert block.splitlines() == [*result.stdout.splitlines(), result.stderr.strip()]


def test_declaring_the_symlinked_folders_too_still_scans_each_file_once(repo):
    entries = "".join(f"    - orchestration/cloud_functions/{f}/shared\n" for f in FUNCTIONS)
    _edit_registry(repo, "    - monitoring\n", "    - monitoring\n" + entries)
    result = run_phasegate("validate", "--root", str(repo))
    assert _places(result.stdout) == EXPECTED, result.stdout


# ---- each noise pattern is real: without what exempts it, it is a finding --------------------


def test_without_the_excludes_the_mlb_names_are_unknown(repo):
    _edit_registry(repo, '  exclude: ["**/mlb/**"]', "  exclude: []")
    _edit_registry(repo, "{path: bin, exclude: [bin/mlb]}", "bin")
    findings = _json(repo)["findings"]
    mlb = {(f["rule"], f["path"]) for f in findings if "/mlb/" in f["path"]}
    assert mlb == {("PG203", "bin/mlb/backfill_mlb.py"),
                   ("PG203", "data_processors/raw/mlb/mlb_processors.py"),
                   ("PG203", "scrapers/mlb/mlb_scrapers.py")}


def test_the_all_list_would_be_a_drifted_copy_under_another_name(repo):
    _edit(repo / "data_processors" / "raw" / "__init__.py", "__all__ = [", "EXPORTS = [")
    [finding] = [f for f in _json(repo)["findings"]
                 if f["path"] == "data_processors/raw/__init__.py"]
    assert finding["rule"] == "PG208"
    assert "holds p2_nbacom_schedule (enabled, not per run key)" in finding["message"]


def test_a_name_switched_on_is_reported(repo):
    module = repo / "data_processors" / "analytics" / "player_game_summary_processor.py"
    _edit(module, '"bdl_player_boxscores": False', '"bdl_player_boxscores": True')
    line = _line_of(module, '"bdl_player_boxscores": True')
    findings = _json(repo)["findings"]
    assert [(f["rule"], f["subject"]) for f in findings
            if f["path"].endswith("player_game_summary_processor.py") and f["line"] == line] == [
        ("PG204", "bdl_player_boxscores")]


def test_another_module_naming_the_disabled_processor_is_reported(repo):
    module = repo / "data_processors" / "raw" / "balldontlie" / "bdl_player_boxscores_processor.py"
    _edit(module, "class BdlPlayerBoxScoresProcessor(", "class BdlArchiveLoader(")
    findings = _json(repo)["findings"]
    assert sorted(f["subject"] for f in findings
                  if f["path"] == module.relative_to(repo).as_posix()) == [
        "nba_raw.bdl_player_boxscores", "nba_raw.bdl_player_boxscores",
        "p2_bdl_player_boxscores"]


# ---- the same patterns, shaped as they were where a first adoption reported them -----------


def test_dependency_lists_inside_a_routing_table_are_not_copies(repo):
    # what each phase 3 processor needs: three phase 2 names are not a copy of phase 2's set
    (repo / "data_processors" / "analytics" / "dependencies.py").write_text(
        "PHASE3_DEPENDENCIES = {\n"
        '    "player_game_summary": ["p2_nbacom_gamebook_pdf", "p2_nbacom_player_boxscores",\n'
        '                            "p2_nbacom_injury_report"],\n'
        '    "team_offense_game_summary": ["p2_nbacom_team_boxscores"],\n'
        "}\n")
    findings = _json(repo)["findings"]
    assert [f for f in findings if f["path"].endswith("dependencies.py")] == []


def test_flag_map_entries_switched_off_are_not_held(repo):
    # RELEVANT_SOURCES keyed by table: every enabled phase 2 table on, the retired one off
    tables = ["nbac_gamebook_player_stats", "nbac_player_boxscores", "nbac_team_boxscore",
              "nbac_injury_report", "odds_api_game_lines", "odds_api_player_points_props"]
    entries = "".join(f'    "nba_raw.{t}": True,\n' for t in tables)
    (repo / "monitoring" / "sources.py").write_text(
        "RELEVANT_SOURCES = {\n" + entries + '    "nba_raw.bdl_player_boxscores": False,\n}\n')
    findings = [f for f in _json(repo)["findings"] if f["path"] == "monitoring/sources.py"]
    # it is a copy of the set (a warning), not a drifted one holding the retired table
    assert [(f["rule"], f["line"]) for f in findings] == [("PG202", 1)]


def test_a_glob_through_the_shared_symlinks_finds_each_file_once(repo):
    _edit_registry(repo, "    - shared  ", "    - orchestration/cloud_functions/*/shared/**/*.py  ")
    findings = _json(repo)["findings"]
    assert [f["rule"] for f in findings if f["path"] == "registry/processors.yaml"] == []
    assert [f["path"] for f in findings if f["rule"] == "PG202"] == [
        "shared/config/orchestration_config.py"]


def test_only_the_functions_folders_declared_still_scans_shared_once(repo):
    _edit_registry(repo, "    - shared  ", "    - orchestration/cloud_functions  ")
    findings = _json(repo)["findings"]
    assert [f["path"] for f in findings if f["rule"] == "PG202"] == [
        "shared/config/orchestration_config.py"]
    assert not [f for f in findings if "/shared/" in f["path"]]


# ---- baselining the rest ---------------------------------------------------------------------


def _baseline(repo: Path, *args: str):
    return run_phasegate("validate", "--root", ".", "--baseline", BASELINE, *args, cwd=repo)


def test_baseline_round_trip(repo):
    written = _baseline(repo, "--update-baseline")
    assert written.returncode == 0, written.stdout + written.stderr
    assert written.stdout == ""
    assert "validator/baseline.json: wrote 9 baseline entries" in written.stderr
    entries = json.loads((repo / BASELINE).read_text())["entries"]
    assert sorted((e["rule"], e["path"]) for e in entries) == sorted(
        (place.split(" ")[2], place.split(":")[0]) for place in EXPECTED)

    clean = _baseline(repo)
    assert (clean.returncode, clean.stdout) == (0, "")
    assert "no problems found (9 baselined)" in clean.stderr

    # lines moving above a baselined finding change nothing
    fallback = repo / "orchestration" / "cloud_functions" / "phase2_to_phase3" / "main.py"
    _edit(fallback, "import json\n", "import json\nimport logging\n")
    assert _baseline(repo).returncode == 0

    # one new drift: only it is reported
    backfill = repo / "bin" / "backfill" / "backfill_scrapers.py"
    _edit(backfill, '        run_scraper("nbac_play_by_play", game_date)\n',
          '        run_scraper("nbac_play_by_play", game_date)\n'
          '        run_scraper("bdl_player_boxscores", game_date)\n')
    new = _baseline(repo)
    assert new.returncode == 1
    assert _places(new.stdout) == [
        "bin/backfill/backfill_scrapers.py:20:21: error PG204 [disabled-referenced]"]
    assert "1 error(s), 0 warning(s) (9 baselined)" in new.stderr

    # fix an old one: reported as fixed, in text and in JSON
    summary = repo / "data_processors" / "analytics" / "player_game_summary_processor.py"
    _edit(summary, '"p2_nbacom_player_boxscore"]', '"p2_nbacom_player_boxscores"]')
    fixed = _baseline(repo)
    assert _places(fixed.stdout) == _places(new.stdout)
    assert "(8 baselined)" in fixed.stderr
    assert "phasegate: 1 baseline entry no longer matches; run --update-baseline" in fixed.stderr
    document = _json(repo, "--baseline", BASELINE)
    assert document["summary"]["baseline"]["matched"] == 8
    [entry] = document["summary"]["baseline"]["fixed"]
    assert (entry["rule"], entry["path"], entry["subject"]) == (
        "PG203", "data_processors/analytics/player_game_summary_processor.py",
        "p2_nbacom_player_boxscore")
    assert [(f["rule"], f["line"]) for f in document["findings"]] == [("PG204", 20)]


def test_sarif_marks_baseline_state(repo):
    assert _baseline(repo, "--update-baseline").returncode == 0
    _edit(repo / "bin" / "backfill" / "backfill_scrapers.py",
          '        run_scraper("nbac_play_by_play", game_date)\n',
          '        run_scraper("nbac_play_by_play", game_date)\n'
          '        run_scraper("bdl_player_boxscores", game_date)\n')
    result = _baseline(repo, "--format", "sarif")
    assert result.returncode == 1
    [run] = json.loads(result.stdout)["runs"]
    states = sorted((r["baselineState"], r["ruleId"]) for r in run["results"])
    assert states.count(("unchanged", "PG204")) == 2
    assert [s for s in states if s[0] == "new"] == [("new", "PG204")]
    assert len([s for s in states if s[0] == "unchanged"]) == 9
    assert run["properties"]["phasegate/baseline"]["matched"] == 9


def test_registry_findings_are_never_baselined(repo):
    assert _baseline(repo, "--update-baseline").returncode == 0
    _edit(repo / "registry" / "processors.yaml", "inputs: [player_game_summary, "
          "upcoming_player_game_context]", "inputs: [player_game_sumary, "
          "upcoming_player_game_context]")
    result = _baseline(repo)
    assert result.returncode == 1
    rules = [p.split(" ")[2] for p in _places(result.stdout)]
    assert "PG101" in rules and set(rules) <= {"PG101", "PG201"}, result.stdout
    assert "(9 baselined)" in result.stderr
