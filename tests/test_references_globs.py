"""Globs and excludes in ``references.code`` (and the global ``references.exclude``).

A glob walks only its literal prefix, which is confined like any declared
path; what it finds is subject to the same symlink, ``.git`` and
scanned-once rules as a declared directory. "Never read" is proven with an
audit hook, as in tests/test_confinement.py.
"""

from __future__ import annotations

import copy
import os
import re
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from phasegate.registry import schema_models
from phasegate.registry.loading import load_registry, load_registry_text
from phasegate.registry.models import CodeReference
from phasegate.registry.schema_check import conforms
from phasegate.registry.semantics import digest
from phasegate.validator.check import check_loaded
from phasegate.validator.globs import literal_prefix, matches
from phasegate.validator.vocabulary import build_vocabulary
from phasegate.validator.workspace import Workspace, _python_files
from tests.audit import OPENED, watching
from tests.conftest import REFERENCE_REGISTRY, REPO, run_phasegate

SECRET = "TOKEN=ghp_s3cr3t-never-printed"

HEAD = """\
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2, aliases: [GamebookProcessor]}
"""

FILES = [
    "orchestration/a.py", "orchestration/sub/deep/b.py", "orchestration/notes.txt",
    "bin/run.py", "bin/legacy/old.py", "bin/tools/mlb/x.py", "bin/shared/s.py",
    "lib/shared/copy.py", "lib/util.py", "top.py", ".git/hooks/hook.py",
]


@pytest.fixture
def world(tmp_path: Path):
    """A repository with sources, a symlink out of it, one inside it, and a secret outside."""
    root = tmp_path / "repo"
    for relative in FILES:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text('"""A module."""\n')
    (root / "registry").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.py").write_text(SECRET)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "lib" / "escape.py").symlink_to(outside / "x.py")
    (root / "alias").symlink_to(root / "orchestration", target_is_directory=True)

    def write(tail: str) -> Path:
        registry = root / "registry" / "processors.yaml"
        registry.write_text(HEAD + textwrap.dedent(tail))
        return registry

    write.root, write.outside = root, outside  # type: ignore[attr-defined]
    with watching(str(outside), str(outside.resolve()), str(root / ".git"),
                  str((root / ".git").resolve())):
        yield write


def _load(world):
    return load_registry(world.root / "registry" / "processors.yaml", "registry/processors.yaml")


def _files(world, tail: str) -> tuple[list[str], Workspace]:
    world(tail)
    registry = _load(world).registry
    assert registry is not None
    workspace = Workspace(build_vocabulary(registry))
    return list(_python_files(registry, world.root, set(), workspace)), workspace


def _findings(world, tail: str) -> list:
    world(tail)
    return check_loaded(_load(world), world.root)


# -- matching ------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern,path,expected", [
    ("orchestration/**/*.py", "orchestration/a.py", True),
    ("orchestration/**/*.py", "orchestration/sub/deep/b.py", True),
    ("orchestration/**/*.py", "orchestration/notes.txt", False),
    ("orchestration/**/*.py", "other/orchestration/a.py", False),
    ("orchestration/*.py", "orchestration/sub/deep/b.py", False),
    ("**/mlb/**", "bin/tools/mlb/x.py", True),
    ("**/mlb/**", "mlb/x.py", True),
    ("**/mlb/**", "bin/mlbx/x.py", False),
    ("bin/legacy/**", "bin/legacy/old.py", True),
    ("bin/legacy", "bin/legacy/old.py", True),  # a parent directory matches
    ("bin/leg?cy/*.py", "bin/legacy/old.py", True),
    ("bin/?.py", "bin/ab.py", False),
    ("**", "anything/at/all.py", True),
    ("*.py", "top.py", True),
    ("*.py", "lib/util.py", False),
    ("lib/[ab].py", "lib/a.py", False),  # only * ** ? are special
    ("./lib/*.py", "lib/util.py", True),
])
def test_glob_matching(pattern, path, expected):
    assert matches(pattern, path) is expected


@pytest.mark.parametrize("pattern,prefix", [
    ("orchestration/**/*.py", "orchestration"), ("**/*.py", ""), ("a/b/c?/d.py", "a/b"),
    ("./a/*.py", "a"), ("*.py", ""),
])
def test_literal_prefix(pattern, prefix):
    assert literal_prefix(pattern) == prefix


# -- what gets scanned ---------------------------------------------------------------------

def test_a_double_star_glob_finds_nested_files(world):
    files, workspace = _files(world, "references:\n  code: ['orchestration/**/*.py']\n")
    assert files == ["orchestration/a.py", "orchestration/sub/deep/b.py"]
    assert workspace.unscannable == [] and workspace.unsafe == []


def test_excludes_per_entry_and_global(world):
    files, _ = _files(world, """\
        references:
          code:
            - {path: bin, exclude: ["bin/legacy/**", "**/mlb/**"]}
        """)
    assert files == ["bin/run.py", "bin/shared/s.py"]
    files, _ = _files(world, """\
        references:
          code:
            - {path: bin, exclude: ["bin/legacy/**", "**/mlb/**"]}
            - lib
            - 'l*/*.py'
          exclude: ["**/shared/**"]
        """)
    assert files == ["bin/run.py", "lib/util.py"]  # lib/escape.py leaves the root: PG206


def test_a_per_entry_exclude_does_not_hide_a_file_another_entry_names(world):
    files, _ = _files(world, """\
        references:
          code:
            - {path: bin, exclude: ["bin/legacy"]}
            - bin/legacy/old.py
        """)
    assert files == ["bin/run.py", "bin/shared/s.py", "bin/tools/mlb/x.py", "bin/legacy/old.py"]


def test_a_file_reached_twice_is_scanned_once_under_its_real_path(world):
    files, _ = _files(world, "references:\n  code: ['alias/*.py', 'orchestration/**/*.py']\n")
    assert files == ["orchestration/a.py", "orchestration/sub/deep/b.py"]
    # excludes match the path as declared and the real path
    for exclude in ("alias/a.py", "orchestration/a.py"):
        files, _ = _files(world, f"references:\n  code: ['alias/*.py']\n  exclude: [{exclude}]\n")
        assert files == [], exclude


def test_a_glob_from_the_root_walks_neither_git_nor_symlinked_directories(world):
    files, workspace = _files(world, "references:\n  code: ['**/*.py']\n")
    assert ".git/hooks/hook.py" not in files and not any(f.startswith("escape/") for f in files)
    assert not any(f.startswith("alias/") for f in files)
    assert "top.py" in files and "orchestration/sub/deep/b.py" in files
    assert [u.subject for u in workspace.unscannable] == ["lib/escape.py"]  # PG206, not read
    assert OPENED == []


def test_a_glob_that_matches_nothing_is_pg206_naming_it(world):
    findings = _findings(world, """\
        references:
          code: ['orchestration/**/*.py', 'monitoring/**/*.py', {path: 'bin/*.pyi'}]
        """)
    pg206 = [f for f in findings if f.rule == "PG206"]
    assert [f.subject for f in pg206] == ["monitoring/**/*.py", "bin/*.pyi"]
    assert "'monitoring/**/*.py' matches no Python file" in pg206[0].message
    assert pg206[0].line == HEAD.count("\n") + 2


def test_a_file_reference_under_a_global_exclude_is_not_read(world):
    findings = _findings(world, """\
        references:
          exclude: ["**/shared/**"]
          files:
            - {path: lib/shared/missing.yaml, select: "a", kind: processor}
        """)
    assert findings == []


# -- confinement ---------------------------------------------------------------------------

@pytest.mark.parametrize("tail", [
    "references:\n  code: ['../**']\n",
    "references:\n  code: ['/etc/*']\n",
    "references:\n  code: ['../outside/*.py']\n",
    "references:\n  code: ['orchestration/**/../../../outside/*.py']\n",
    "references:\n  code: ['escape/*.py']\n",          # literal prefix: a symlink out
    "references:\n  code: ['escape/**']\n",
    "references:\n  code: [{path: '../outside/**'}]\n",
    "references:\n  code: [{path: 'escape/*.py', exclude: ['x']}]\n",
    "references:\n  code: ['.git/**/*.py']\n",
    "references:\n  code: ['.git/*']\n",
    "references:\n  code: [{path: bin, exclude: ['../**']}]\n",
    "references:\n  code: [{path: bin, exclude: ['/etc/*']}]\n",
    "references:\n  code: [bin]\n  exclude: ['../**']\n",
    "references:\n  code: [bin]\n  exclude: ['/etc/*']\n",
])
def test_a_glob_or_exclude_that_escapes_is_pg113_and_nothing_outside_is_read(world, tail):
    findings = _findings(world, tail)
    pg113 = [f for f in findings if f.rule == "PG113"]
    assert len(pg113) == 1, findings
    assert "never read or written" in pg113[0].message
    assert OPENED == [] and all(SECRET not in f.message for f in findings)
    result = run_phasegate("validate", "--root", str(world.root))
    assert result.returncode != 0 and "PG113" in result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_pg113_points_at_the_offending_exclude(world):
    findings = _findings(world, """\
        references:
          code:
            - {path: bin,
               exclude: ['**/mlb/**', '../**']}
        """)
    (pg113,) = [f for f in findings if f.rule == "PG113"]
    assert (pg113.line, pg113.subject) == (HEAD.count("\n") + 4, "../**")
    assert "references.code exclude path '../**' leaves the repository root" in pg113.message


# -- the format and the digest -------------------------------------------------------------

BASE = {"version": 1, "pipeline": "x", "timezone": "UTC", "processors": {"p2_a": {"phase": 2}}}


def _pydantic_accepts(data) -> bool:
    try:
        schema_models.Registry.model_validate(data)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("references,valid", [
    ({"code": ["a/**/*.py", {"path": "bin", "exclude": ["bin/x/**"]}], "exclude": ["**/s/**"]},
     True),
    ({"code": [{"path": "bin"}]}, True),
    ({"code": [{"path": "bin", "exclude": []}], "exclude": []}, True),
    ({"code": [{"exclude": ["x"]}]}, False),
    ({"code": [{"path": "bin", "exlcude": ["x"]}]}, False),
    ({"code": [{"path": "bin", "exclude": "x"}]}, False),
    ({"code": [{"path": 1}]}, False),
    ({"code": [1]}, False),
    ({"code": [["a"]]}, False),
    ({"exclude": "**/shared/**"}, False),
    ({"exclude": [True]}, False),
    ({"exclude": None}, False),
])
def test_the_fast_path_and_pydantic_agree_on_the_new_fields(references, valid):
    data = copy.deepcopy(BASE) | {"references": references}
    assert conforms(data) is valid and _pydantic_accepts(data) is valid


def _registry(references: str):
    loaded = load_registry_text(HEAD + references, "r.yaml")
    assert loaded.registry is not None
    return loaded.registry


def test_the_reference_registry_digest_is_unchanged():
    loaded = load_registry(REFERENCE_REGISTRY, "registry/processors.yaml")
    assert loaded.registry is not None
    recorded = re.search(r"^REGISTRY_DIGEST = '([0-9a-f]{64})'$",
                         (REPO / "orchestrator" / "expected_processors.py").read_text(),
                         re.MULTILINE)
    assert recorded is not None and digest(loaded.registry) == recorded.group(1)
    result = run_phasegate("generate", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_digest_ignores_unused_fields_and_sees_used_ones():
    plain = digest(_registry("references:\n  code: [bin, lib]\n"))
    assert digest(_registry("references:\n  code: [{path: bin}, lib]\n  exclude: []\n")) == plain
    assert digest(_registry("references:\n  code: [{path: bin, exclude: []}, lib]\n")) == plain
    with_exclude = _registry("references:\n  code: [{path: bin, exclude: [b, a]}, lib]\n")
    assert with_exclude.references.code[0] == CodeReference("bin", ("b", "a"))
    assert digest(with_exclude) != plain
    assert digest(with_exclude) == digest(
        _registry("references:\n  code: [{path: bin, exclude: [a, b]}, lib]\n"))
    assert digest(_registry("references:\n  code: [bin, lib]\n  exclude: ['**/x/**']\n")) != plain


def test_directory_symlinks_are_walked_once_and_never_out_of_the_root(tmp_path):
    """A glob through a function's shared/ link matches; loops, fan-outs and escapes end."""

    from phasegate.validator.workspace import _walk

    root = tmp_path / "repo"
    (root / "shared").mkdir(parents=True)
    (root / "shared" / "config.py").write_text("X = 1\n")
    (root / "fn").mkdir()
    os.symlink("../shared", root / "fn" / "shared")
    os.symlink("..", root / "fn" / "up")  # a loop back to an ancestor
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("S = 1\n")
    os.symlink(str(outside), root / "fn" / "out")
    for level in range(1, 11):  # 6 links to the level below, 10 levels: 6**10 paths unguarded
        (root / f"d{level}").mkdir()
        for link in range(6):
            os.symlink(f"../d{level - 1}" if level > 1 else "../shared",
                       root / f"d{level}" / f"l{link}")
    through = [p.relative_to(root).as_posix() for p in _walk(root / "fn", root)]
    assert "fn/shared/config.py" in through and len(through) < 50  # up/ ends, out/ is not followed
    assert not any("secret" in p for p in through)
    walked = [p.relative_to(root).as_posix() for p in _walk(root, root)]
    assert "shared/config.py" in walked
    assert not any("secret" in p for p in walked)
    assert len(walked) < 50
