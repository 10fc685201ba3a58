"""`phasegate init --from-code`: a registry proposed from a repository's code, every entry for review.

Most tests run the real command line on a copy of tests/fixtures/from-code-repo
(processor and scraper classes, an intermediate base, a test double, a config
file with scrapers, calls naming a scraper and a processor, Firestore
collections); a few call the pure discovery directly.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from phasegate.registry.loading import load_registry_text
from phasegate.scaffold.from_code import discover_config, discover_python, propose
from phasegate.validator.check import check_loaded
from tests.conftest import REPO, Result, run_phasegate

FIXTURE = REPO / "tests" / "fixtures" / "from-code-repo"
REGISTRY = "registry/processors.yaml"


def init(*args: str) -> Result:
    return run_phasegate("init", *args)


def fake_repo(tmp_path: Path, name: str = "repo") -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURE, target)
    return target


def registry_text(root: Path) -> str:
    return (root / REGISTRY).read_text(encoding="utf-8")


def entries_without_review(text: str) -> list[str]:
    """Names of entries under scrapers/processors/transitions not preceded by `# review:`."""
    missing: list[str] = []
    section = None
    lines = text.splitlines()
    for index, line in enumerate(lines):
        top = re.match(r"^([a-z_]+):", line)
        if top:
            section = top.group(1)
            continue
        entry = re.match(r"^  (?:# )?([A-Za-z\"][A-Za-z0-9_\"]*):$", line)
        if (section in ("scrapers", "processors", "transitions") and entry
                and not lines[index - 1].startswith("  # review: ")):
            missing.append(entry.group(1))
    return missing


# --- the proposals ----------------------------------------------------------------------------


def test_proposes_processors_scrapers_transitions_and_references_each_for_review(
        tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    result = init(str(repo), "--pipeline", "nba-stats", "--from-code", "src", "config")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    text = registry_text(repo)

    assert """
scrapers:
  # review: found as a key under scrapers: in config/workflows.yaml:5
  bdl_box_scores:
    enabled: true
  # review: found as a key under scrapers: in config/workflows.yaml:3
  nbac_gamebook_pdf:
    enabled: true
  # review: found as class NbacScheduleScraper in src/scrapers/schedule.py:5
  nbac_schedule:
    enabled: true
  # review: found as an argument of run_scraper() in src/orchestration/run.py:5
  odds_api_props:
    enabled: true
""" in text
    assert """
processors:
  # review: found as processor_name: in config/workflows.yaml:4
  # review: found as class NbacGamebookProcessor in src/raw/gamebook.py:4
  # review: phase 2 from "raw" in src/raw
  nbac_gamebook:
    phase: 2
    aliases: [NbacGamebookProcessor]
  # review: found as processor_name: in config/workflows.yaml:6
  # review: found as class BdlBoxScores in src/raw/gamebook.py:8
  # review: phase 2 from "raw" in src/raw
  p2_bdl_box_scores:
    phase: 2
    aliases: [BdlBoxScores]
  # review: found as an argument of publish_completion() in src/orchestration/run.py:6
  # review: phase 2 from "p2" in the name
  p2_odds_props:
    phase: 2
  # review: found as class PlayerGameSummaryProcessor in src/analytics/summary.py:4
  # review: phase 3 from "analytics" in src/analytics
  player_game_summary:
    phase: 3
    aliases: [PlayerGameSummaryProcessor]
""" in text
    assert """
transitions:
  # review: found as collection("phase2_completion") in src/orchestration/run.py:7
  # review: from_phase 2 from the collection's name; to_phase 3 assumed
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
""" in text
    assert "\n  phase3_to_phase4:\n    from_phase: 3\n    to_phase: 4\n" in text
    assert "  #   run_locks (src/orchestration/run.py:9)\n" in text  # listed, not a transition
    assert """
references:
  # review: the code given to --from-code, scanned for names
  code:
    - "src"
  files:
    # review: scraper names found under scrapers: in config/workflows.yaml:3
    - {path: "config/workflows.yaml", select: "scrapers.*", key: true, kind: scraper}
    # review: processor names found under processor_name: in config/workflows.yaml:4
    - {path: "config/workflows.yaml", select: "scrapers.*.processor_name", kind: processor}
  calls:
    # review: processor names found as an argument of publish_completion() in src/orchestration/run.py:6
    - {function: publish_completion, keyword: processor_name, kind: processor}
    # review: scraper names found as an argument of run_scraper() in src/orchestration/run.py:5
    - {function: run_scraper, arg: 0, kind: scraper}
""" in text
    # machinery is never proposed: bases (ProcessorBase, RawProcessor, ScraperBase), test doubles
    for machinery in ("ProcessorBase", "RawProcessor", "ScraperBase", "TestPlayerGame"):
        assert machinery not in text, machinery
    assert entries_without_review(text) == []
    # the starter's example names are gone; its canary and generate sections stay
    assert "source_api" not in text and "SourceEventsProcessor" not in text
    assert "\ncanary:\n" in text and "format: deploy-plan}" in text

    assert ("proposed from src, config (6 file(s) read): 4 processor(s), 4 scraper(s), "
            "2 transition(s), 1 references.code, 2 references.files, 2 references.calls"
            in result.stdout.splitlines())
    assert result.stdout.splitlines()[-1] == (
        "every entry is marked `# review:` in registry/processors.yaml: confirm or fix each "
        "one, then run `phasegate validate`")


def test_the_proposed_registry_loads_passes_the_schema_and_validates_strictly(
        tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    assert init(str(repo), "--from-code", "src", "config").returncode == 0
    loaded = load_registry_text(registry_text(repo), REGISTRY)
    assert loaded.problems == []
    assert loaded.registry is not None
    assert sorted(loaded.registry.processors) == [
        "nbac_gamebook", "p2_bdl_box_scores", "p2_odds_props", "player_game_summary"]
    assert sorted(loaded.registry.scrapers) == [
        "bdl_box_scores", "nbac_gamebook_pdf", "nbac_schedule", "odds_api_props"]
    assert {name: t.collection for name, t in loaded.registry.transitions.items()} == {
        "phase2_to_phase3": "phase2_completion", "phase3_to_phase4": "phase3_completion"}
    assert [f.rule for f in check_loaded(loaded, repo)] == []
    # what CI runs: the proposals, the code they name and the artifacts init generated agree
    validated = run_phasegate("validate", "--strict", "--root", str(repo))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    checked = run_phasegate("generate", "--check", "--root", str(repo))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def copy_in_reverse_order(target: Path) -> Path:
    """The fixture again, its files created in the opposite order."""
    target.mkdir()
    for path in sorted(FIXTURE.rglob("*"), reverse=True):
        if path.is_file():
            (target / path.relative_to(FIXTURE)).parent.mkdir(parents=True, exist_ok=True)
            (target / path.relative_to(FIXTURE)).write_bytes(path.read_bytes())
    return target


def test_the_output_is_deterministic(tmp_path: Path) -> None:
    # four runs, with different hash seeds (set order) and file creation orders
    roots = [fake_repo(tmp_path, "one"), copy_in_reverse_order(tmp_path / "two"),
             fake_repo(tmp_path, "three"), copy_in_reverse_order(tmp_path / "four")]
    results = [run_phasegate("init", str(root), "--pipeline", "same", "--from-code", "config",
                             "src", env={"PYTHONHASHSEED": str(seed)})
               for seed, root in enumerate(roots, start=1)]
    assert [r.returncode for r in results] == [0, 0, 0, 0]
    texts = {registry_text(root) for root in roots}
    assert len(texts) == 1
    assert len({r.stdout for r in results}) == 1
    assert "4 processor(s)" in results[0].stdout


def test_a_transition_whose_phase_has_no_processor_is_proposed_commented_out(
        tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "jobs").mkdir(parents=True)
    (repo / "jobs" / "done.py").write_text(
        'def finish(db):\n    db.collection("phase4_completion").document("d").set({})\n')
    result = init(str(repo), "--from-code", "jobs")
    assert result.returncode == 0, result.stderr
    text = registry_text(repo)
    assert """
transitions: {}
  # review: found as collection("phase4_completion") in jobs/done.py:2
  # review: from_phase 4 from the collection's name; to_phase 5 assumed
  # review: commented out: no proposed processor has phase 4, so `expects: all` would expect nothing (PG106)
  # phase4_to_phase5:
  #   from_phase: 4
""" in text
    loaded = load_registry_text(text, REGISTRY)
    assert loaded.problems == [] and loaded.registry is not None
    assert loaded.registry.transitions == {}
    assert "0 transition(s) (and 1 commented out)" in result.stdout


def test_names_that_are_not_registry_names_are_skipped_and_said(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    (repo / "config" / "scrapers.yaml").write_text(
        "scrapers:\n  - espn-roster\n  - espn_teams\n")
    result = init(str(repo), "--from-code", "config")
    assert result.returncode == 0, result.stderr
    text = registry_text(repo)
    assert "  espn_teams:\n    enabled: true\n" in text
    assert "espn-roster" not in text and "espn_roster" not in text
    assert ('skipped 1 name(s) that are not registry names: "espn-roster" '
            "(config/scrapers.yaml:2)") in result.stdout
    assert ('- {path: "config/scrapers.yaml", select: "scrapers", kind: scraper}') in text
    assert load_registry_text(text, REGISTRY).problems == []


# --- nothing found; an existing registry -----------------------------------------------------


def test_nothing_found_writes_the_starter_registry_and_says_so(tmp_path: Path) -> None:
    repo, plain = tmp_path / "repo", tmp_path / "plain"
    (repo / "lib").mkdir(parents=True)
    (repo / "lib" / "util.py").write_text("def add(a, b):\n    return a + b\n")
    result = init(str(repo), "--pipeline", "p", "--from-code", "lib")
    assert result.returncode == 0, result.stderr
    assert init(str(plain), "--pipeline", "p").returncode == 0
    assert registry_text(repo) == registry_text(plain)
    assert result.stdout.splitlines()[-1] == (
        "found nothing to propose in lib (1 file(s) read); wrote the starter registry with its "
        "example names")


def test_an_existing_registry_is_kept_and_the_proposals_are_printed_to_add(
        tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    (repo / "registry").mkdir()
    mine = "version: 1\npipeline: mine\ntimezone: UTC\nprocessors: {}\n"
    (repo / REGISTRY).write_text(mine)
    result = init(str(repo), "--from-code", "src", "config")
    assert result.returncode == 0, result.stderr
    assert registry_text(repo) == mine
    assert ("kept registry/processors.yaml (exists); add the entries you confirm (proposed "
            "from code, each marked `# review:`):") in result.stdout
    assert ("  # review: found as class NbacScheduleScraper in src/scrapers/schedule.py:5\n"
            "  nbac_schedule:\n") in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "registry/processors.yaml exists, so nothing was written to it; every entry printed "
        "above is marked `# review:`: add the ones you confirm")
    # once the registry names every proposal, a re-run has nothing to add
    fresh = fake_repo(tmp_path, "fresh")
    assert init(str(fresh), "--from-code", "src", "config").returncode == 0
    again = init(str(fresh), "--from-code", "src", "config")
    assert again.returncode == 0, again.stderr
    assert "kept registry/processors.yaml (exists)" in again.stdout.splitlines()
    assert "# review:" not in again.stdout
    assert again.stdout.splitlines()[-1] == (
        "registry/processors.yaml exists and already names every proposed entry; nothing to add")


def test_with_a_prefix_the_registry_moves_and_paths_stay_relative_to_dir(
        tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    result = init(str(repo), "--prefix", "ops/phasegate", "--from-code", "src", "config")
    assert result.returncode == 0, result.stderr
    text = (repo / "ops/phasegate" / REGISTRY).read_text()
    assert '    - "src"\n' in text and 'path: "config/workflows.yaml"' in text
    validated = run_phasegate("validate", "--strict", "--registry",
                              f"ops/phasegate/{REGISTRY}", cwd=repo)
    assert validated.returncode == 0, validated.stdout + validated.stderr


# --- confinement and bad input ---------------------------------------------------------------


@pytest.mark.parametrize("outside", ["../elsewhere", "ABSOLUTE"])
def test_a_path_outside_dir_is_refused_with_exit_2_and_nothing_written(
        tmp_path: Path, outside: str) -> None:
    repo = fake_repo(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.py").write_text("class SecretProcessor:\n    pass\n")
    path = str(elsewhere) if outside == "ABSOLUTE" else outside
    result = init(str(repo), "--from-code", "src", path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"phasegate: error: --from-code {path!r} ")
    assert "inside DIR" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (repo / "registry").exists()


def test_an_absolute_path_inside_dir_is_accepted_and_shown_relative(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    result = init(str(repo), "--from-code", str(repo / "src"))
    assert result.returncode == 0, result.stderr
    assert '  code:\n    - "src"\n' in registry_text(repo)


def test_a_missing_path_and_a_symlinked_folder_leaving_dir_are_refused(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    missing = init(str(repo), "--from-code", "nope")
    assert missing.returncode == 2
    assert "phasegate: error: --from-code 'nope': no such file or folder in" in missing.stderr
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    linked = init(str(repo), "--from-code", "linked")
    assert linked.returncode == 2
    assert "leaves the repository root through a symlink" in linked.stderr
    assert "Traceback" not in missing.stderr + linked.stderr
    assert not (repo / "registry").exists()


def test_symlinks_leaving_dir_git_and_oversized_files_are_never_read(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.py").write_text("class EvilProcessor:\n    pass\n")
    (repo / "src" / "evil.py").symlink_to(outside / "evil.py")
    (repo / "src" / "evil_folder").symlink_to(outside, target_is_directory=True)
    (repo / "src" / ".git").mkdir()
    (repo / "src" / ".git" / "hook.py").write_text("class GitProcessor:\n    pass\n")
    (repo / "src" / "sneaky.py").symlink_to(repo / "src" / ".git" / "hook.py")
    (repo / "src" / "huge.py").write_text(
        "class HugeProcessor:\n    pass\n" + "#" * (1024 * 1024))
    result = init(str(repo), "--from-code", "src")
    assert result.returncode == 0, result.stderr
    text = registry_text(repo)
    for never in ("EvilProcessor", "evil", "GitProcessor", "HugeProcessor"):
        assert never not in text, never
    assert ("phasegate: warning: --from-code: src/evil.py: a symlink that leaves DIR; not read"
            in result.stderr.splitlines())
    assert ("phasegate: warning: --from-code: src/sneaky.py: leads into .git; not read"
            in result.stderr.splitlines())
    assert "phasegate: warning: --from-code: src/huge.py: larger than the 1,048,576-byte " \
           "limit; skipped" in result.stderr.splitlines()
    assert "nbac_gamebook:" in text  # everything else is still proposed


def test_a_file_that_does_not_parse_is_skipped_without_a_traceback(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    (repo / "src" / "broken.py").write_text("class HalfWrittenProcessor(\n    def oops\n")
    (repo / "config" / "broken.yaml").write_text("scrapers: [unclosed\n")
    result = init(str(repo), "--from-code", "src", "config")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = result.stderr.splitlines()
    assert ("phasegate: warning: --from-code: src/broken.py:1: does not parse "
            "('(' was never closed); skipped") in warnings
    yaml_warning = [w for w in warnings if "config/broken.yaml" in w]
    assert len(yaml_warning) == 1, result.stderr
    assert yaml_warning[0].startswith("phasegate: warning: --from-code: config/broken.yaml:2: "
                                      "YAML does not parse")
    assert yaml_warning[0].endswith("; skipped")
    text = registry_text(repo)
    assert "HalfWritten" not in text and "unclosed" not in text
    assert "nbac_gamebook:" in text


def test_the_from_code_flag_takes_several_paths_and_repeats(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    result = init("--from-code", "src/raw", "--pipeline", "x", str(repo), "--from-code",
                  "config", "src/scrapers")
    assert result.returncode == 0, result.stderr
    text = registry_text(repo)
    assert '  code:\n    - "src/raw"\n    - "src/scrapers"\n' in text
    assert "nbac_gamebook:" in text and "nbac_schedule:" in text
    assert "player_game_summary" not in text and "odds_api_props" not in text


# --- the pure discovery ----------------------------------------------------------------------


def test_discovery_is_pure_and_finds_what_the_design_names() -> None:
    found = discover_python("jobs/phase3/run.py", """\
from somewhere import Processor, BaseScraper

class Phase3Totals(ProcessorBase): ...
class OddsScraper(BaseScraper): ...
class BaseProcessor: ...
class ProcessorError(Exception): ...
class MockGamebookProcessor: ...

def go(db, client):
    run_scraper("odds")
    client.start_processor(name="p3_totals")
    db.collection("phase3_completion").get()
    db.collection(some_variable).get()
    print("GamebookProcessor")
""")
    assert [(c.kind, c.name, c.sighting.line) for c in found.classes] == [
        ("processor", "Phase3Totals", 3), ("scraper", "OddsScraper", 4)]
    assert [(n.kind, n.value) for n in found.names] == [
        ("scraper", "odds"), ("processor", "p3_totals")]
    assert [name for name, _ in found.collections] == ["phase3_completion"]
    assert [(c.function, c.arg, c.keyword) for c in found.calls] == [
        ("run_scraper", 0, None), ("start_processor", None, "name")]
    proposal = propose(found, ["jobs"])
    assert [(e.name, e.body) for e in proposal.processors] == [
        ("p3_totals", ("phase: 3",)), ("phase3_totals", ("phase: 3", "aliases: [Phase3Totals]"))]
    assert [e.name for e in proposal.transitions] == ["phase3_to_phase4"]


def test_config_discovery_reads_mapping_keys_lists_and_name_fields() -> None:
    found = discover_config("c.yaml", """\
pipelines:
  - name: morning
    scrapers: [a_one, a_two]
    processors:
      - {name: p2_a, retries: 3}
""")
    assert [(n.kind, n.value, n.sighting.line) for n in found.names] == [
        ("scraper", "a_one", 3), ("scraper", "a_two", 3), ("processor", "p2_a", 5)]
    assert [(s.select, s.key) for s in found.selects] == [
        ("pipelines.*.scrapers", False), ("pipelines.*.processors.*.name", False)]
    assert discover_config("c.yaml", "unrelated: [1, 2]\n").names == []


def test_hostile_python_is_skipped_not_a_crash() -> None:
    deep = "x = " + "(" * 5000 + ")" * 5000 + "  # processor\n"
    found = discover_python("deep.py", deep)
    assert found.classes == [] and len(found.skipped) == 1
    assert found.skipped[0].startswith("deep.py")
    nul = discover_python("nul.py", "class AProcessor:\x00 pass\n")
    assert nul.classes == [] and "skipped" in nul.skipped[0]


def test_control_characters_in_file_names_never_reach_the_registry(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    try:
        (repo / "src" / "bad\nname.py").write_text("class InjectedProcessor:\n    pass\n")
    except OSError:
        pytest.skip("the file system refuses a newline in a file name")
    (repo / "src" / "ok.py").write_text("class FineProcessor:\n    pass\n")
    result = init(str(repo), "--from-code", "src")
    assert result.returncode == 0, result.stderr
    text = registry_text(repo)
    assert "Injected" not in text and "fine:" in text
    assert load_registry_text(text, REGISTRY).problems == []
    assert os.path.exists(repo / "src" / "bad\nname.py")
