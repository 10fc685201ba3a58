"""Every attack on confinement, replayed: a registry edit never reads, writes or leaks outside.

"Never read" is proven with ``sys.addaudithook`` (every ``open`` of a path
outside the root is recorded), "never written" with a sentinel file outside
the root whose content and mtime must not change.
"""

from __future__ import annotations

import json
import os
import textwrap
import threading
from pathlib import Path

import pytest

from phasegate.registry.loading import load_registry
from phasegate.validator.check import check_loaded
from tests.audit import OPENED, watching
from tests.conftest import run_phasegate

SECRET = "TOKEN=ghp_s3cr3t-never-printed"

HEAD = """\
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2, aliases: [GamebookProcessor]}
transitions:
  t:
    from_phase: 2
    to_phase: 3
    collection: c
"""


@pytest.fixture
def world(tmp_path: Path):
    """A repository root, and beside it (outside) a secret and a sentinel."""
    root = tmp_path / "repo"
    (root / "registry").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "creds.json").write_text(json.dumps({"auths": {"registry": {"auth": SECRET}}}))
    (outside / "environ").write_text(SECRET + "\n")
    sentinel = outside / "x.py"
    sentinel.write_text(SECRET)
    os.utime(sentinel, (1_000_000_000, 1_000_000_000))

    def write(tail: str) -> Path:
        registry = root / "registry" / "processors.yaml"
        registry.write_text(HEAD + textwrap.dedent(tail))
        return registry

    write.root, write.outside, write.sentinel = root, outside, sentinel  # type: ignore[attr-defined]
    with watching(str(outside), str(outside.resolve())):
        yield write
    assert sentinel.read_text() == SECRET and sentinel.stat().st_mtime == 1_000_000_000


def _validate(world) -> list:
    registry = world.root / "registry" / "processors.yaml"
    return check_loaded(load_registry(registry, "registry/processors.yaml"), world.root)


def _codes(findings) -> set[str]:
    return {f.rule for f in findings}


@pytest.mark.parametrize("path", ["/proc/self/environ", "../outside/x.py", "../outside/creds.json",
                                  "orchestrator/../../outside/x.py", ".git/hooks/pre-commit"])
def test_a_generate_path_that_leaves_the_root_is_pg113_and_never_touched(world, path):
    world(f"generate:\n  - {{path: {path!r}, format: json}}\n")
    findings = _validate(world)
    assert "PG113" in _codes(findings)
    assert OPENED == [] and all(SECRET not in f.message for f in findings)
    for command in (("generate",), ("generate", "--check")):
        result = run_phasegate(*command, "--root", str(world.root))
        assert result.returncode == 2, result.stderr
        assert SECRET not in result.stdout + result.stderr and "internal error" not in result.stderr


def test_a_symlink_out_of_the_root_is_never_written(world):
    (world.root / "orchestrator").symlink_to(world.outside)
    world("generate:\n  - {path: orchestrator/x.py, format: python}\n")
    assert "PG113" in _codes(_validate(world)) and OPENED == []
    result = run_phasegate("generate", "--root", str(world.root))
    assert result.returncode == 2 and "leaves the repository root" in result.stderr


def test_the_registry_is_never_overwritten(world):
    registry = world("generate:\n  - {path: registry/processors.yaml, format: json}\n")
    before = registry.read_text()
    result = run_phasegate("generate", "--root", str(world.root))
    assert result.returncode == 2 and "is the registry itself" in result.stderr
    assert registry.read_text() == before


def test_a_referenced_file_outside_the_root_is_pg113_and_never_read(world):
    world("""\
        references:
          files:
            - {path: ../outside/creds.json, select: "auths.*.auth", kind: processor}
    """)
    findings = _validate(world)
    assert "PG113" in _codes(findings) and OPENED == []
    assert all(SECRET not in f.message for f in findings)


def test_a_committed_symlink_to_a_secret_is_never_read(world):
    (world.root / "config").mkdir()
    (world.root / "config" / "creds.json").symlink_to(world.outside / "creds.json")
    world("""\
        references:
          files:
            - {path: config/creds.json, select: "auths.*.auth", kind: processor}
    """)
    findings = _validate(world)
    assert "PG113" in _codes(findings) and OPENED == []
    result = run_phasegate("validate", "--root", str(world.root))
    assert SECRET not in result.stdout + result.stderr


def test_a_calendar_outside_the_root_is_pg113_and_never_echoed(world):
    world("canary:\n  calendar: ../../../../../../../proc/self/environ\n")
    findings = _validate(world)
    assert "PG113" in _codes(findings)
    world("canary:\n  calendar: ../outside/environ\n")
    findings = _validate(world)
    assert "PG113" in _codes(findings) and OPENED == []
    result = run_phasegate("canary", "run", "--dry-run", "--root", str(world.root))
    assert SECRET not in result.stdout + result.stderr and "internal error" not in result.stderr


def test_an_absolute_code_path_is_pg113_not_an_internal_error(world):
    world(f"references:\n  code: [{world.outside}]\n")
    result = run_phasegate("validate", "--root", str(world.root))
    assert result.returncode == 1 and "PG113" in result.stdout
    assert "internal error" not in result.stderr


def test_a_fifo_registry_ends_in_an_error_not_a_hang(world):
    registry = world.root / "registry" / "processors.yaml"
    os.mkfifo(registry)
    result = run_phasegate("validate", "--root", str(world.root))  # the subprocess has a timeout
    assert result.returncode == 2 and "not a regular file" in result.stderr


def test_a_registry_symlinked_out_of_the_root_is_refused(world):
    registry = world.root / "registry" / "processors.yaml"
    registry.symlink_to(world.outside / "environ")
    result = run_phasegate("validate", "--root", str(world.root))
    assert result.returncode == 2 and "resolves outside the repository root" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_dev_zero_and_fifos_among_sources_are_findings(world):
    code = world.root / "bin"
    code.mkdir()
    (code / "z.py").symlink_to("/dev/zero")
    os.mkfifo(code / "pipe.py")
    (code / "ok.py").write_text("EXPECTED = ['p2_gamebook', 'p2_nope', 'p2_other']\n")
    world("references:\n  code: [bin]\n")
    done = threading.Event()
    findings: list = []

    def run() -> None:
        findings.extend(_validate(world))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(60), "validate hung on a FIFO or /dev/zero"
    unscannable = [f"{f.path} {f.message}" for f in findings if f.rule == "PG206"]
    assert any("bin/z.py is a symlink that leaves the repository root" in m
               for m in unscannable), unscannable
    assert any(m.startswith("bin/pipe.py ") and "not a regular file" in m
               for m in unscannable), unscannable
    assert "PG203" in _codes(findings)  # every other finding still reported


def test_a_huge_source_file_is_a_finding(world):
    code = world.root / "bin"
    code.mkdir()
    (code / "big.py").write_bytes(b"#" * (8 * 1024 * 1024 + 10))
    world("references:\n  code: [bin]\n")
    [finding] = [f for f in _validate(world) if f.rule == "PG206"]
    assert finding.path == "bin/big.py" and "larger than" in finding.message


@pytest.mark.parametrize("line, code", [
    ("processors:\n\t p2_x: {phase: 2}  # phasegate: ignore[PG001] editor quirk\n", "PG001"),
    ("    deadline_minutes: -1  # phasegate: ignore[PG003] tests\n", "PG003"),
    ("    expects: [p2_off]  # phasegate: ignore[PG102] later\n", "PG102"),
])
def test_registry_findings_cannot_be_suppressed(world, line, code):
    tail = ("scrapers:\n  s: {enabled: false, disabled_reason: gone}\n" if code == "PG102"
            else "")
    registry = world(tail)
    text = registry.read_text()
    if code == "PG102":
        text = text.replace("  p2_gamebook:", "  p2_off: {phase: 2, inputs: [s], enabled: false, "
                            "disabled_reason: gone}\n  p2_gamebook:")
        text = text.replace("    collection: c\n", "    collection: c\n" + line)
    elif code == "PG003":
        text += line
    else:
        text = line + text
    registry.write_text(text)
    result = run_phasegate("validate", "--strict", "--root", str(world.root))
    assert result.returncode != 0 and code in result.stdout, result.stdout + result.stderr


def test_deep_code_and_long_chains_are_findings_not_recursion_errors(world):
    code = world.root / "bin"
    code.mkdir()
    (code / "long.py").write_text("y = " + "+".join(["1"] * 100_000) + "\n")
    (code / "deep.py").write_text("NAMES = ['p2_gamebook', 'p2_nope', 'p2_x']\n"
                                  "y = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n")
    (code / "ok.py").write_text("EXPECTED = ['p2_gamebook', 'p2_nope', 'p2_other']\n")
    chain = "".join(f"  p2_c{i}: {{phase: 2, inputs: [p2_c{i - 1}]}}\n" for i in range(1, 1500))
    registry = world("references:\n  code: [bin]\n")
    registry.write_text(registry.read_text().replace(
        "processors:\n", "processors:\n  p2_c0: {phase: 2}\n" + chain))
    result = run_phasegate("validate", "--root", str(world.root))
    assert "internal error" not in result.stderr
    assert "bin/deep.py:2:" in result.stdout and "too many nested parentheses" in result.stdout
    assert "bin/long.py" not in result.stdout  # 100,000 terms scan fine
    assert "PG203" in result.stdout  # every other finding is still reported


@pytest.mark.parametrize("tail", ["canary: {renotify_hours: .inf}\n",
                                  "canary: {schedule: '² * * * *'}\n",
                                  "canary: {schedule: '61 * * * *'}\n"])
def test_non_finite_numbers_and_bad_cron_are_errors(world, tail):
    world(tail)
    result = run_phasegate("validate", "--root", str(world.root))
    assert result.returncode == 1 and "PG003" in result.stdout
    assert "internal error" not in result.stderr


def test_a_newline_in_the_registry_file_name_never_becomes_code(world, tmp_path):
    registry = world("generate:\n  - {path: orchestrator/expected_processors.py, format: python}\n")
    odd = registry.with_name("x\nimport os; os.system('touch PWNED')\n.yaml")
    registry.rename(odd)
    result = run_phasegate("generate", "--root", str(world.root), "--registry", str(odd))
    assert result.returncode == 0, result.stderr
    module = (world.root / "orchestrator" / "expected_processors.py").read_text()
    assert module.splitlines()[0].startswith("# Generated from ") and "\\nimport os" in module
    namespace: dict = {}
    exec(compile(module, "m", "exec"), namespace)  # noqa: S102 - nothing but data runs
    assert not (world.root / "PWNED").exists() and not Path("PWNED").exists()


def test_the_pipeline_name_is_quoted_in_the_monitoring_filter(world):
    registry = world("generate:\n  - {path: deploy/m.json, format: canary-monitoring}\n")
    registry.write_text(registry.read_text().replace(
        "pipeline: demo", 'pipeline: \'x" OR severity>=DEFAULT OR "\''))
    assert run_phasegate("generate", "--root", str(world.root)).returncode == 0
    document = json.loads((world.root / "deploy" / "m.json").read_text())
    label = document["log_metric"]["filter"].split("labels.phasegate_pipeline = ", 1)[1]
    assert json.loads(label) == 'x" OR severity>=DEFAULT OR "'  # one quoted string
    assert " " not in document["log_metric"]["name"]


HOSTILE_PATHS = ["../outside/x.py", "../outside/creds.json", "/proc/self/environ",
                 "link/x.py", "link", "fifo", "registry/processors.yaml", ".git/config",
                 "a/../../outside/x.py", "./ok.json", "ok/out.py", "..", ".", "",
                 "dir", "zero.py", "\x00", "ok/../ok/twice.json"]


def _hostile_root(root: Path, outside: Path) -> None:
    (root / "link").symlink_to(outside, target_is_directory=True)
    os.mkfifo(root / "fifo")
    (root / "dir").mkdir()
    (root / "zero.py").symlink_to("/dev/zero")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(SECRET)


def test_hostile_registries_never_touch_anything_outside_the_root(tmp_path):
    """Fuzz: hostile paths in every place a registry names one; validate, generate --check
    and generate run in-process while the audit hook watches the outside folder."""
    import contextlib
    import io

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from phasegate.cli import main

    formats = st.sampled_from(["python", "json", "requirements", "cloud-scheduler",
                               "canary-monitoring"])
    path = st.sampled_from(HOSTILE_PATHS)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(generate=st.lists(st.tuples(path, formats), max_size=3),
           code=st.lists(path, max_size=2), files=st.lists(path, max_size=2),
           calendar=st.none() | path)
    def attack(generate, code, files, calendar):
        import shutil
        import tempfile

        with tempfile.TemporaryDirectory(dir=tmp_path) as base:
            root, outside = Path(base) / "repo", Path(base) / "outside"
            (root / "registry").mkdir(parents=True)
            outside.mkdir()
            sentinel = outside / "x.py"
            sentinel.write_text(SECRET)
            (outside / "creds.json").write_text(json.dumps({"a": SECRET}))
            os.utime(sentinel, (1_000_000_000, 1_000_000_000))
            _hostile_root(root, outside)
            text = HEAD + "generate:\n" + "".join(
                f"  - {{path: {json.dumps(p)}, format: {f}}}\n" for p, f in generate)
            text += "references:\n  code: [" + ", ".join(json.dumps(c) for c in code) + "]\n"
            text += "  files:\n" + "".join(
                f"    - {{path: {json.dumps(p)}, select: '*', kind: processor}}\n" for p in files)
            if calendar is not None:
                text += f"canary:\n  calendar: {json.dumps(calendar)}\n"
            if not generate:
                text = text.replace("generate:\n", "")
            if not files:
                text = text.replace("  files:\n", "")
            (root / "registry" / "processors.yaml").write_text(text)
            with watching(str(outside), str(outside.resolve()), "/proc/self/environ"):
                for command in (["validate"], ["generate", "--check"], ["generate"]):
                    out, err = io.StringIO(), io.StringIO()
                    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                        code_ = main([*command, "--root", str(root)])
                    assert code_ in (0, 1, 2), (command, code_)
                    assert "internal error" not in err.getvalue(), err.getvalue()
                    assert SECRET not in out.getvalue() + err.getvalue(), command
            assert OPENED == [], OPENED
            assert sentinel.read_text() == SECRET
            assert sentinel.stat().st_mtime == 1_000_000_000
            assert (root / ".git" / "config").read_text() == SECRET
            shutil.rmtree(root, ignore_errors=True)

    attack()


def _scaffold(tmp_path: Path) -> Path:
    root = tmp_path / "acme"
    assert run_phasegate("init", str(root), "--pipeline", "acme").returncode == 0
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f"[http]\n\textraheader = {SECRET}\n")
    return root


def test_deploy_build_never_copies_git_through_a_symlink(tmp_path):
    root = _scaffold(tmp_path)
    (root / "orchestrator" / "gitlink").symlink_to("../.git", target_is_directory=True)
    result = run_phasegate("deploy", "build", str(tmp_path / "out"), "--root", str(root))
    assert result.returncode == 2 and "leads into .git" in result.stderr
    assert not any(SECRET in p.read_text(errors="replace")
                   for p in (tmp_path / "out").rglob("*") if p.is_file())


def test_deploy_build_never_writes_through_a_committed_symlink(tmp_path):
    root = _scaffold(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "build").symlink_to(elsewhere, target_is_directory=True)
    result = run_phasegate("deploy", "build", str(root / "build"), "--root", str(root))
    assert result.returncode == 2 and "resolves outside" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_git_is_never_entered_through_a_symlink(world):
    git = world.root / ".git"
    git.mkdir()
    (git / "config").write_text(SECRET)
    (world.root / "gl").symlink_to(".git", target_is_directory=True)
    world("references:\n  files:\n    - {path: gl/config, select: '*', kind: processor}\n"
          "generate:\n  - {path: gl/hooks/x.py, format: python}\n")
    findings = _validate(world)
    assert [f.rule for f in findings].count("PG113") == 2
    assert all(SECRET not in f.message for f in findings)
    assert not (git / "hooks").exists()
    world("generate:\n  - {path: .GIT/x.py, format: python}\n")
    assert "PG113" in _codes(_validate(world))


def test_a_generated_artifact_cannot_suppress_its_own_staleness(world):
    registry = world("generate:\n  - {path: orchestrator/expected_processors.py, format: python}\n"
                     "references:\n  files:\n    - {path: orchestrator/expected_processors.py, "
                     "select: 'x', kind: processor}\n")
    assert run_phasegate("generate", "--root", str(world.root)).returncode == 0
    module = world.root / "orchestrator" / "expected_processors.py"
    lines = module.read_text().splitlines()
    lines[2] += "  # phasegate: ignore[PG201,PG206] hand-tuned"
    module.write_text("\n".join(lines) + "\n")
    result = run_phasegate("validate", "--strict", "--root", str(world.root))
    assert result.returncode == 1 and "PG201" in result.stdout, result.stdout
    registry.write_text(registry.read_text().replace(
        "format: python}", "format: python}  # phasegate: ignore[PG201] tuned", 1))
    assert run_phasegate("validate", "--root", str(world.root)).returncode == 1


def test_nesting_that_would_crash_the_yaml_composer_is_a_finding(world):
    registry = world.root / "registry" / "processors.yaml"
    registry.write_text("x: " + "[" * 100_000 + "]" * 100_000 + "\n")
    result = run_phasegate("validate", "--root", str(world.root))
    assert result.returncode == 1 and "nested too deeply" in result.stdout


def test_a_file_name_with_a_newline_never_starts_an_output_line(world):
    code = world.root / "bin"
    code.mkdir()
    (code / "x\n::warning title=pwned::owned.py").write_text(
        "EXPECTED = ['p2_gamebook', 'p2_nope', 'p2_other']\n")
    world("references:\n  code: [bin]\n")
    result = run_phasegate("validate", "--root", str(world.root))
    assert not any(line.startswith("::") for line in result.stdout.splitlines())
    assert "bin/x ::warning title=pwned" in result.stdout  # on the finding's own line


def test_a_user_file_mentioning_phasegate_is_never_overwritten(world):
    (world.root / "requirements.txt").write_text(
        "# pinned like phasegate[gcp]==0.1.0 says\nSECRET_TOKEN=abc123\n")
    world("generate:\n  - {path: requirements.txt, format: requirements}\n")
    result = run_phasegate("generate", "--check", "--root", str(world.root))
    assert result.returncode == 2 and "abc123" not in result.stdout + result.stderr


@pytest.mark.parametrize("tail", ["    deadline_minutes: 99999999999999999999999\n",
                                  "    grace_minutes: 2000000000\n"])
def test_numbers_the_canary_would_refuse_are_errors(world, tail):
    registry = world("")
    registry.write_text(registry.read_text() + tail)
    result = run_phasegate("validate", "--root", str(world.root))
    assert result.returncode == 1 and "PG003" in result.stdout


def test_a_huge_max_age_is_a_usage_error(world):
    result = run_phasegate("canary", "heartbeat", "--max-age", "999999999999d",
                           "--root", str(world.root))
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["https://hooks.slack.com%2Fservices%2FT0%2FSECRETPATH",
                                 "https://hooks.slack.com\\services\\T0\\SECRETPATH",
                                 "https://hooks.slack.com;services;SECRETPATH"])
def test_a_malformed_webhook_url_is_never_shown(url):
    from phasegate.canary.channels import DeliveryFailed, parse_url, redact

    with pytest.raises(DeliveryFailed) as raised:
        parse_url(url)
    assert "SECRETPATH" not in str(raised.value) and "SECRETPATH" not in redact(url)
