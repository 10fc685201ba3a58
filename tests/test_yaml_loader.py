"""The positioned loader: positions, duplicates, booleans and absurd input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from phasegate.registry import yaml_loader
from phasegate.registry.yaml_loader import Position, UnreadableFile, load_file, load_text


def test_positions_of_keys_and_values_are_one_based():
    doc = load_text("a:\n  b: [x, y]\n  c: 1\n")
    assert doc.problems == []
    assert doc.data == {"a": {"b": ["x", "y"], "c": 1}}
    assert doc.positions.of(("a", "b"), key=True) == Position(2, 3)
    assert doc.positions.of(("a", "b")) == Position(2, 6)
    assert doc.positions.of(("a", "b", 1)) == Position(2, 10)
    assert doc.positions.of(("a", "c")) == Position(3, 6)


def test_absent_path_falls_back_to_nearest_key():
    doc = load_text("a:\n  b: 1\n")
    assert doc.positions.of(("a", "missing", 3)) == Position(1, 1)


def test_duplicate_key_is_reported_with_first_line():
    doc = load_text("a: 1\nb: 2\na: 3\n")
    [problem] = doc.problems
    assert (problem.kind, problem.position) == ("duplicate-key", Position(3, 1))
    assert "first defined at line 1" in problem.message


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "NO", "On", "OFF"])
def test_yaml11_booleans_are_ambiguous(word):
    doc = load_text(f"flag: {word}\n")
    [problem] = doc.problems
    assert problem.kind == "schema"
    assert problem.position == Position(1, 7)
    assert doc.data == {"flag": word}  # kept as text, so nothing is silently a bool


@pytest.mark.parametrize("word,value", [("true", True), ("false", False), ("True", True)])
def test_true_and_false_are_booleans(word, value):
    doc = load_text(f"flag: {word}\n")
    assert doc.problems == [] and doc.data == {"flag": value}


def test_quoted_yes_is_a_string():
    doc = load_text("reason: 'yes'\n")
    assert doc.problems == [] and doc.data == {"reason": "yes"}


def test_dates_and_numbers():
    doc = load_text("on_day: 2026-02-07\nn: 0x10\nf: 1.5\nnothing: ~\n")
    assert doc.data == {"on_day": dt.date(2026, 2, 7), "n": 16, "f": 1.5, "nothing": None}


def test_impossible_date_is_a_syntax_problem():
    doc = load_text("day: 2026-02-30\n")
    [problem] = doc.problems
    assert problem.kind == "syntax" and problem.position == Position(1, 6)


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    doc = load_text("\n".join(lines) + "\n")
    [problem] = doc.problems
    assert problem.kind == "syntax"
    assert "alias bomb" in problem.message
    assert doc.data is None


def test_recursive_alias_is_refused():
    doc = load_text("a: &loop\n  - *loop\n")
    [problem] = doc.problems
    assert "recursive alias" in problem.message


def test_small_anchors_and_merge_keys_still_work():
    doc = load_text("base: &b {phase: 2}\np: {<<: *b, inputs: [x]}\nq: *b\n")
    assert doc.problems == []
    assert doc.data["p"] == {"phase": 2, "inputs": ["x"]}
    assert doc.data["q"] == {"phase": 2}


def test_syntax_error_position():
    doc = load_text("a: [1, 2\nb: 3\n")
    [problem] = doc.problems
    assert problem.kind == "syntax"
    assert problem.position.line == 2


def test_non_utf8_bytes_are_a_syntax_problem_with_position(tmp_path: Path):
    path = tmp_path / "r.yaml"
    path.write_bytes(b"version: 1\npipeline: \xff\xfe\n")
    doc = load_file(path)
    [problem] = doc.problems
    assert (problem.kind, problem.position) == ("syntax", Position(2, 11))
    assert "UTF-8" in problem.message


def test_utf8_bom_is_accepted(tmp_path: Path):
    path = tmp_path / "r.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_file(path).data == {"a": 1}


def test_directory_is_unreadable(tmp_path: Path):
    with pytest.raises(UnreadableFile, match="not a regular file"):
        load_file(tmp_path)


def test_missing_file_is_unreadable(tmp_path: Path):
    with pytest.raises(UnreadableFile, match="no such file"):
        load_file(tmp_path / "nope.yaml")


def test_oversized_file_is_refused(tmp_path: Path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (yaml_loader.MAX_FILE_BYTES + 1))
    with pytest.raises(UnreadableFile, match="larger than"):
        load_file(path)


def test_empty_text_loads_as_none():
    doc = load_text("")
    assert doc.data is None and doc.problems == []


def test_deep_nesting_is_refused_not_a_crash():
    doc = load_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    [problem] = doc.problems
    # PyYAML 6.0.4 stops at its own depth limit; older versions reach ours
    assert problem.kind == "syntax" and "nest" in problem.message


# --- tags: plain YAML only ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tag", "column"), [
    ("a: !!python/object/apply:os.system [echo hi]\n", "!!python/object/apply:os.system", 4),
    ("a: !!python/name:os.system\n", "!!python/name:os.system", 4),
    ("a: !foo bar\n", "!foo", 4),
    ("a: !foo {x: 1}\n", "!foo", 4),
    ("a: !Ref [x]\n", "!Ref", 4),
    ("!foo\nx: 1\n", "!foo", 1),
    ("a: !!set {x}\n", "!!set", 4),
    ("a: !!omap [{x: 1}]\n", "!!omap", 4),
    ("a: !!binary aGVsbG8=\n", "!!binary", 4),
])
def test_a_tag_beyond_plain_yaml_is_a_syntax_problem_at_its_node(text, tag, column):
    doc = load_text(text)
    [problem] = doc.problems
    assert (problem.kind, problem.position) == ("syntax", Position(1, column))
    assert problem.message.startswith(f"tag {tag} is not allowed: ")
    assert doc.fatal


@pytest.mark.parametrize(("text", "value"), [
    ("a: !!str 1\n", "1"), ("a: !!int '3'\n", 3), ("a: !!float 1\n", 1.0),
    ("a: !!bool true\n", True), ("a: !!null ''\n", None),
    ("a: !!timestamp 2026-01-01\n", dt.date(2026, 1, 1)), ("a: ! x\n", "x"),
    ("a: !!map {x: 1}\n", {"x": 1}), ("a: !!seq [1]\n", [1]),
    ("a: !<tag:yaml.org,2002:str> x\n", "x"),
])
def test_plain_yaml_tags_stay_fine(text, value):
    doc = load_text(text)
    assert doc.problems == [] and doc.data == {"a": value}


def test_a_tag_on_the_wrong_kind_of_node_says_so():
    [problem] = load_text("a: !!str [x]\n").problems
    assert problem.message.startswith("tag !!str does not fit a list: ")


def test_an_aliased_tagged_node_is_reported_once():
    doc = load_text("b: &x !foo [1]\nc: *x\nd: [*x, *x]\ne: &y !bar v\nf: [*y, *y]\n")
    assert [(p.position.line, p.subject) for p in doc.problems] == [(1, "!foo"), (4, "!bar")]


def test_an_unknown_tag_in_a_registry_is_pg001_at_its_line_and_column():
    from tests.conftest import findings_for

    text = (REGISTRY_HEAD + "processors:\n"
            "  p2_a: {phase: 2, aliases: !!python/object/apply:os.system [echo hi]}\n")
    [finding] = findings_for(text)
    assert (finding.rule, finding.line, finding.column) == ("PG001", 6, 29)
    assert "tag !!python/object/apply:os.system is not allowed" in finding.message


def test_an_unknown_tag_in_a_referenced_file_is_pg206_not_a_crash(tmp_path: Path):
    from phasegate.registry.loading import load_registry
    from phasegate.validator.check import check_loaded

    (tmp_path / "registry").mkdir()
    (tmp_path / "registry/processors.yaml").write_text(
        REGISTRY_HEAD + "processors:\n  p2_a: {phase: 2}\nreferences:\n  files:\n"
        "    - {path: config/jobs.yaml, select: 'jobs.*.processor', kind: processor}\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config/jobs.yaml").write_text(
        "jobs:\n  one: {processor: p2_a}\n  two: !Ref {processor: p2_b}\n")
    loaded = load_registry(tmp_path / "registry/processors.yaml", "registry/processors.yaml")
    findings = [f for f in check_loaded(loaded, tmp_path) if f.rule != "PG201"]
    assert [f.rule for f in findings] == ["PG206"]
    assert "config/jobs.yaml" in findings[0].message + findings[0].path
    assert "tag !Ref is not allowed" in findings[0].message


REGISTRY_HEAD = "version: 1\npipeline: demo\ntimezone: UTC\nscrapers: {}\n"
