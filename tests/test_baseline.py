"""``validate --baseline``: a drifted repository adopts phasegate and fails only on new drift.

"Not read without --baseline" is proven with ``sys.addaudithook`` (every
``open`` of the baseline's path is recorded while a test watches it).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from pathlib import Path

import jsonschema
import pytest

from phasegate.registry.locate import load_for_command
from phasegate.usage import UsageError
from phasegate.validator import baseline as baselines
from phasegate.validator.command import validate_command
from phasegate.validator.findings import Finding, Severity
from tests.conftest import REPO, run_phasegate

FIXTURE = REPO / "tests" / "fixtures" / "drifted-repo"
BASELINED = ["PG203", "PG204", "PG205", "PG208"]  # the fixture's findings outside PG201

OPENED: list[str] = []
_WATCH: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if (event == "open" and _WATCH and isinstance(args[0], str | bytes | os.PathLike)
            and os.fsdecode(args[0]) in _WATCH):
        OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # cannot be removed; it records only while _WATCH is set


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy)
    return copy


def _validate(root: Path, output_format: str = "json", **options: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = validate_command(load_for_command(None, root, {}), root, output_format=output_format,
                            strict=False, out=out, err=err, **options)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def _file(root: Path) -> Path:
    return root / "validator" / "baseline.json"


def _update(root: Path) -> None:
    code, _, err = _validate(root, baseline=_file(root), update_baseline=True)
    assert code == 1 and "wrote 4 baseline entries" in err, err


def _with_baseline(root: Path, output_format: str = "json") -> tuple[int, str, str]:
    return _validate(root, output_format, baseline=_file(root))


def _rules(stdout: str) -> list[str]:
    return [f["rule"] for f in json.loads(stdout)["findings"]]


def _insert_above(path: Path, text: str) -> None:
    path.write_text(text + path.read_text())


# ---- update, then validate ------------------------------------------------------------------


def test_update_writes_every_baselinable_finding_and_pg201_still_fails(repo):
    _update(repo)
    document = json.loads(_file(repo).read_text())
    assert document["version"] == 1
    assert [e["rule"] for e in document["entries"]] == BASELINED  # sorted; never PG201
    [drifted] = [e for e in document["entries"] if e["rule"] == "PG208"]
    assert drifted["path"] == "monitoring/check_phase2.py"
    assert drifted["fingerprint"] == baselines.fingerprint("EXPECTED_PHASE2 = [")
    assert _file(repo).read_text().endswith("}\n")

    code, out, err = _with_baseline(repo)
    assert code == 1  # the stale generated artifact is never baselined
    assert _rules(out) == ["PG201"]
    assert json.loads(out)["summary"] == {"errors": 1, "warnings": 0,
                                          "baseline": {"matched": 4, "fixed": []}}
    assert "1 error(s), 0 warning(s) (4 baselined)" in err

    assert run_phasegate("generate", "--root", str(repo)).returncode == 0
    code, out, err = _with_baseline(repo, "text")
    assert (code, out) == (0, ""), out
    assert "no problems found (4 baselined)" in err


def test_update_is_deterministic(repo):
    _update(repo)
    first = _file(repo).read_bytes()
    _update(repo)
    assert _file(repo).read_bytes() == first


def test_registry_findings_are_never_baselined():
    registry = Finding("registry/processors.yaml", 12, 9, "PG102", "disabled-but-expected",
                       Severity.ERROR, "m", "p2_x")
    stale = Finding("orchestrator/x.py", 57, 1, "PG201", "stale-generated", Severity.ERROR, "m",
                    "orchestrator/x.py")
    code = Finding("monitoring/a.py", 3, 1, "PG202", "hard-coded-list", Severity.ERROR, "m", "p")
    lines = {("monitoring/a.py", 3): "X = ["}
    assert baselines.entries_for([registry, stale, code], lines) == [
        baselines.Entry("PG202", "monitoring/a.py", "p", baselines.fingerprint("X = ["))]
    # a hand-written entry for a registry finding accepts nothing and is reported as fixed
    forged = [baselines.Entry(f.rule, f.path, f.subject, baselines.fingerprint(""))
              for f in (registry, stale)]
    outcome = baselines.match([registry, stale], {}, forged)
    assert outcome.new == (registry, stale) and outcome.matched == ()
    assert outcome.fixed == tuple(sorted(forged))


def test_update_refused_when_the_registry_has_errors(repo):
    _update(repo)
    before = _file(repo).read_bytes()
    registry = repo / "registry" / "processors.yaml"
    registry.write_text(registry.read_text() + "broken: [\n")
    code, out, err = _validate(repo, baseline=_file(repo), update_baseline=True)
    assert code == 1
    assert "not updated: the registry has errors" in err
    assert _file(repo).read_bytes() == before


def test_update_needs_a_file():
    with pytest.raises(UsageError, match="--update-baseline needs --baseline FILE"):
        validate_command(load_for_command(None, FIXTURE, {}), FIXTURE, output_format="text",
                         strict=False, out=io.StringIO(), err=io.StringIO(),
                         update_baseline=True)


# ---- matching -------------------------------------------------------------------------------


def test_findings_whose_lines_move_still_match(repo):
    _update(repo)
    _insert_above(repo / "monitoring" / "check_phase2.py", "# moved\n\nimport os\n")
    workflows = repo / "config" / "workflows.yaml"
    workflows.write_text(workflows.read_text().replace(
        "scrapers:\n", "scrapers:\n  extra:\n    schedule: \"0 1 * * *\"\n"))
    # re-indenting the offending line keeps its fingerprint (whitespace is normalised)
    check = repo / "monitoring" / "check_phase2.py"
    check.write_text(check.read_text().replace("EXPECTED_PHASE2 = [", "EXPECTED_PHASE2  =  ["))
    code, out, _ = _with_baseline(repo)
    document = json.loads(out)
    assert _rules(out) == ["PG201"]
    assert document["summary"]["baseline"] == {"matched": 4, "fixed": []}


def test_a_new_finding_fails(repo):
    assert run_phasegate("generate", "--root", str(repo)).returncode == 0  # PG201 out of the way
    code, _, err = _validate(repo, baseline=_file(repo), update_baseline=True)
    assert code == 0, err
    workflows = repo / "config" / "workflows.yaml"
    workflows.write_text(workflows.read_text()
                         + "  other:\n    processor_name: p2_nbacom_gamebok_pdf\n")
    code, out, err = _with_baseline(repo)
    assert code == 1
    [new] = json.loads(out)["findings"]
    assert (new["rule"], new["subject"], new["line"]) == ("PG203", "p2_nbacom_gamebok_pdf", 13)
    assert "1 error(s), 0 warning(s) (4 baselined)" in err


def test_entries_are_a_multiset(repo):
    """A second finding on an identical line is new: one entry accepts one finding."""
    assert run_phasegate("generate", "--root", str(repo)).returncode == 0
    code, _, _ = _validate(repo, baseline=_file(repo), update_baseline=True)
    assert code == 0
    workflows = repo / "config" / "workflows.yaml"
    workflows.write_text(workflows.read_text()
                         + "  again:\n    processor_name: p2_nbacom_boxscore\n")
    code, out, _ = _with_baseline(repo)
    assert code == 1
    [new] = json.loads(out)["findings"]
    assert (new["rule"], new["subject"]) == ("PG203", "p2_nbacom_boxscore")


def test_a_changed_line_is_new(repo):
    _update(repo)
    check = repo / "monitoring" / "check_phase2.py"
    check.write_text(check.read_text().replace("EXPECTED_PHASE2 = [", "EXPECTED_P2 = ["))
    code, out, _ = _with_baseline(repo)
    document = json.loads(out)
    assert _rules(out) == ["PG208", "PG201"]  # by place: monitoring/ before orchestrator/
    assert [e["rule"] for e in document["summary"]["baseline"]["fixed"]] == ["PG208"]


def test_fixed_entries_are_reported_in_json_and_text(repo):
    _update(repo)
    workflows = repo / "config" / "workflows.yaml"
    workflows.write_text(workflows.read_text().replace("p2_nbacom_boxscore\n",
                                                       "p2_nbacom_boxscores\n"))
    code, out, err = _with_baseline(repo)
    assert code == 1  # PG201
    summary = json.loads(out)["summary"]["baseline"]
    assert summary["matched"] == 3
    assert summary["fixed"] == [{"rule": "PG203", "path": "config/workflows.yaml",
                                 "subject": "p2_nbacom_boxscore",
                                 "fingerprint": baselines.fingerprint(
                                     "    processor_name: p2_nbacom_boxscore")}]
    assert "phasegate: 1 baseline entry no longer matches; run --update-baseline" in err

    text_code, text_out, text_err = _with_baseline(repo, "text")
    assert text_code == 1
    assert [line.split(" [")[0] for line in text_out.splitlines()] == [
        "orchestrator/expected_processors.py:74:1: error PG201"]
    assert text_err.splitlines()[-1] == (
        "phasegate: 1 baseline entry no longer matches; run --update-baseline")

    _validate(repo, baseline=_file(repo), update_baseline=True)
    _, _, err = _with_baseline(repo, "text")
    assert "no longer match" not in err and "(3 baselined)" in err


# ---- SARIF ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_schema():
    return json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())


def test_sarif_marks_baseline_state_and_validates(repo, sarif_schema):
    _update(repo)
    check = repo / "monitoring" / "check_phase2.py"
    check.write_text(check.read_text().replace("EXPECTED_PHASE2 = [", "EXPECTED_P2 = ["))
    code, out, _ = _with_baseline(repo, "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    [run] = log["runs"]
    states = {(r["ruleId"], r["baselineState"], r["level"]) for r in run["results"]}
    assert states == {("PG201", "new", "error"), ("PG208", "new", "error"),
                      ("PG203", "unchanged", "note"), ("PG204", "unchanged", "note"),
                      ("PG205", "unchanged", "note")}
    for result in run["results"]:
        assert ("suppressions" in result) == (result["baselineState"] == "unchanged")
    assert run["properties"]["phasegate/baseline"]["matched"] == 3
    assert [e["rule"] for e in run["properties"]["phasegate/baseline"]["fixed"]] == ["PG208"]


def test_sarif_without_baseline_is_unchanged(repo):
    _, out, _ = _validate(repo, "sarif")
    [run] = json.loads(out)["runs"]
    assert all("baselineState" not in r for r in run["results"])
    assert "properties" not in run


# ---- bad files, confinement, and never read without --baseline ------------------------------


@pytest.mark.parametrize(("content", "message"), [
    (b"{not json", "malformed baseline: Expecting property name"),
    (b"[]", "malformed baseline: not a phasegate baseline"),
    (b'{"version": 2, "entries": []}', "malformed baseline: not a phasegate baseline"),
    (b'{"version": 1}', '"entries" is not a list'),
    (b'{"version": 1, "entries": [{"rule": "PG202"}]}', "entry 0 is not an object"),
    (b'{"version": 1, "entries": [{"rule": "PG202", "path": "a", "subject": "s", '
     b'"fingerprint": "XYZ"}]}', "entry 0: fingerprint is not 16 lowercase hex digits"),
    (b"\xff\xfe", "baseline is not UTF-8 text"),
    (b"[" * 100_000, "malformed baseline: nested too deeply"),
])
def test_malformed_baseline_is_a_one_line_usage_error(repo, content, message):
    _file(repo).parent.mkdir(parents=True, exist_ok=True)
    _file(repo).write_bytes(content)
    with pytest.raises(UsageError) as raised:
        _with_baseline(repo)
    text = str(raised.value)
    assert text.startswith("validator/baseline.json: ")
    assert message in text and "\n" not in text


def test_missing_or_irregular_baseline_is_a_usage_error(repo):
    with pytest.raises(UsageError, match=r"^validator/baseline.json: baseline unreadable: no "
                                         r"such file \(write one with --update-baseline\)$"):
        _with_baseline(repo)
    _file(repo).mkdir(parents=True)
    with pytest.raises(UsageError, match="not a regular file"):
        _with_baseline(repo)


@pytest.mark.parametrize("where", ["outside", "symlink", "git"])
def test_baseline_outside_the_root_is_refused(repo, tmp_path, where):
    outside = tmp_path / "outside.json"
    outside.write_text(baselines.render([]))
    if where == "outside":
        path = outside
    elif where == "symlink":
        path = _file(repo)
        path.parent.mkdir(parents=True)
        path.symlink_to(outside)
    else:
        path = repo / ".git" / "baseline.json"
    for update in (False, True):
        with pytest.raises(UsageError) as raised:
            _validate(repo, baseline=path, update_baseline=update)
        assert str(raised.value).startswith(f"--baseline {path}: ")
    assert outside.read_text() == baselines.render([])  # never written through the symlink
    assert not (repo / ".git").exists()


def test_baseline_is_not_read_without_the_flag(repo):
    _file(repo).parent.mkdir(parents=True)
    _file(repo).write_text("{malformed")
    watched = [str(_file(repo)), str(_file(repo).resolve())]
    _WATCH[:] = watched
    try:
        code, out, _ = _validate(repo)
        assert OPENED == []
        assert code == 1 and "baseline" not in json.loads(out)["summary"]
        with pytest.raises(UsageError):  # the hook does see the file when it is read
            _with_baseline(repo)
        assert OPENED and set(OPENED) <= set(watched)
    finally:
        _WATCH.clear()
        OPENED.clear()


# ---- the command line -----------------------------------------------------------------------


def _cli_wired() -> bool:
    return "--baseline" in run_phasegate("validate", "--help").stdout


@pytest.fixture(scope="module")
def cli():
    if not _cli_wired():
        pytest.skip("cli not wired yet")


def test_cli_update_then_validate(cli, repo):
    baseline = str(_file(repo))
    updated = run_phasegate("validate", "--root", str(repo), "--baseline", baseline,
                            "--update-baseline")
    assert updated.returncode == 1 and "wrote 4 baseline entries" in updated.stderr
    result = run_phasegate("validate", "--root", str(repo), "--baseline", baseline)
    assert result.returncode == 1
    assert [line.split(" [")[0].rsplit(" ", 1)[-1] for line in result.stdout.splitlines()] == [
        "PG201"]


def test_cli_malformed_baseline_exits_2_with_one_line(cli, repo):
    _file(repo).parent.mkdir(parents=True)
    _file(repo).write_text("{malformed")
    result = run_phasegate("validate", "--root", str(repo), "--baseline", str(_file(repo)))
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("phasegate: error: validator/baseline.json: malformed baseline")
