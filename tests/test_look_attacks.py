"""Attacks on the graph, the generated Markdown region and GET /status: each failed before its fix."""

from __future__ import annotations

import contextlib
import io
import textwrap
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from phasegate.generation import generate
from phasegate.graph import dot, svg
from phasegate.graph.model import build
from phasegate.registry.loading import load_registry_text
from tests.conftest import REFERENCE_REGISTRY, REPO, run_phasegate

BEGIN, END = "<!-- phasegate:mermaid -->", "<!-- /phasegate:mermaid -->"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository whose registry generates only README.md's Mermaid region."""
    (tmp_path / "registry").mkdir()
    text = REFERENCE_REGISTRY.read_text().split("\ngenerate:")[0] + textwrap.dedent("""
        generate:
          - {path: README.md, format: mermaid}
        """)
    (tmp_path / "registry" / "processors.yaml").write_text(text)
    return tmp_path


def run_generate(root: Path, check: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = generate(root / "registry" / "processors.yaml", root, check=check, out=out,
                    err=err, shown="registry/processors.yaml")
    return code, out.getvalue(), err.getvalue()


# == 1. the embedded region: a stray or lost marker replaces the whole README ==========

def test_an_end_marker_before_the_begin_marker_never_replaces_the_whole_readme(root):
    readme = root / "README.md"
    readme.write_text(f"# mine\n\nhand-written, keep me\n{END}\nmore\n{BEGIN}\nold\n{END}\n"
                      "after, keep me too\n")
    code, _, _ = run_generate(root)
    text = readme.read_text()
    assert "hand-written, keep me" in text and "after, keep me too" in text, (code, text[:300])


def test_check_never_shows_hand_written_text_far_from_the_region(root):
    readme = root / "README.md"
    private = "\n".join(f"private note {i}: token=abc{i}" for i in range(20))
    readme.write_text(f"{private}\n{END}\n{BEGIN}\nold\n{END}\n")
    code, diff, _ = run_generate(root, check=True)
    assert "private note 0: token=abc0" not in diff, diff[:400]


def test_a_lost_end_marker_never_replaces_the_whole_readme(root):
    readme = root / "README.md"
    readme.write_text(f"# mine\n{BEGIN}\nold\n{END}\nafter: precious hand-written text\n")
    assert run_generate(root)[0] == 0
    # an edit loses the end marker; the region's own "Generated from ... by phasegate"
    # header (in the first 4 KiB) now makes the whole README look generated
    readme.write_text(readme.read_text().replace(END + "\n", ""))
    code, _, err = run_generate(root)
    assert "precious hand-written text" in readme.read_text(), (code, err)
    assert code != 0  # the broken markers are an error, not a silent rewrite


# == 2. a README that is not UTF-8 is corrupted outside the region ======================

def test_a_non_utf8_readme_is_never_rewritten_with_replacement_characters(root):
    readme = root / "README.md"
    original = (f"# caf\xe9\n{BEGIN}\nold\n{END}\nna\xefve\n").encode("latin-1")
    readme.write_bytes(original)
    code, _, err = run_generate(root)
    after = readme.read_bytes()
    assert "\ufffd".encode() not in after, (code, err)
    assert after.startswith("# caf\xe9\n".encode("latin-1")) or code != 0


# == 3. markers quoted in prose (or in a code block) are taken as the region ============

def test_markers_quoted_in_prose_are_not_the_region(root):
    readme = root / "README.md"
    prose = f"The graph is regenerated between `{BEGIN}` and `{END}` comments.\n"
    readme.write_text(f"{prose}\n{BEGIN}\nold\n{END}\n")
    run_generate(root)
    text = readme.read_text()
    assert text.startswith(prose), text[:200]
    assert "\nold\n" not in text  # the real region was filled


def test_markers_inside_a_fenced_code_block_are_not_the_region(root):
    readme = root / "README.md"
    example = f"```markdown\n{BEGIN}\n{END}\n```\n"
    readme.write_text(f"How to embed:\n\n{example}\n## Graph\n{BEGIN}\nold\n{END}\n")
    run_generate(root)
    text = readme.read_text()
    assert example in text and "\nold\n" not in text


# == 4. CRLF files get mixed line endings ===============================================

def test_a_crlf_readme_keeps_crlf_line_endings(root):
    readme = root / "README.md"
    readme.write_bytes(f"# mine\r\n{BEGIN}\r\nold\r\n{END}\r\nafter\r\n".encode())
    assert run_generate(root)[0] == 0
    data = readme.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n"), "mixed LF and CRLF line endings"


# == 5. the pipeline name reaches SVG and DOT raw ======================================

def registry_with_pipeline(pipeline: str):
    text = ('version: 1\npipeline: "' + pipeline + '"\ntimezone: UTC\n'
            "processors: {p: {phase: 1}}\n")
    loaded = load_registry_text(text, "r.yaml")
    assert loaded.registry is not None
    return loaded.registry


def test_svg_stays_well_formed_with_a_control_character_in_the_pipeline_name():
    graph = build(registry_with_pipeline("nba\\x01stats"))
    ElementTree.fromstring(svg.render(graph))  # ParseError: not well-formed (invalid token)


def test_bidi_controls_and_huge_pipeline_names_are_escaped_and_bounded():
    graph = build(registry_with_pipeline("safe\\u202Eexe.txt"))
    assert "\u202e" not in svg.render(graph) and "\u202e" not in dot.render(graph)
    huge = build(registry_with_pipeline("P" * 50_000))
    assert len(svg.render(huge)) < 20_000 and len(dot.render(huge)) < 20_000


# == 6. graph of a registry with errors draws it silently, edges dropped ================

def test_graph_of_a_registry_with_an_unknown_input_does_not_hide_it(tmp_path):
    registry = tmp_path / "r.yaml"
    registry.write_text("version: 1\npipeline: x\ntimezone: UTC\n"
                        "processors: {a: {phase: 1, inputs: [nope]}}\n")
    assert run_phasegate("validate", "--registry", str(registry), "--root",
                         str(tmp_path)).returncode == 1  # PG101
    result = run_phasegate("graph", "--registry", str(registry), "--root", str(tmp_path))
    # either refuse like other errors (exit 2) or draw the unknown input
    assert result.returncode == 2 or "nope" in result.stdout, result.stdout


# == 7. a GET on any non-status path (a browser's /favicon.ico) runs the canary =========

class Request:
    def __init__(self, path: str, method: str = "GET") -> None:
        self.path, self.method, self.args = path, method, {}


@pytest.mark.parametrize("path", ["/favicon.ico", "/status.json/x", "/status;x"])
def test_a_get_beside_the_status_page_never_runs_the_canary(monkeypatch, path):
    import phasegate.canary.run as run
    import phasegate.canary.store as store
    from phasegate.canary.function import function_handler

    ran: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        ran.append(args)
        raise AssertionError("the canary ran")

    monkeypatch.setattr(store, "firestore_client", refuse)
    monkeypatch.setattr(run, "run_once", refuse)
    monkeypatch.setattr(run, "report_failure", refuse)
    handler = function_handler(REPO / "canary" / "expected.json",
                               environ={"GOOGLE_CLOUD_PROJECT": "p"})
    with contextlib.suppress(AssertionError):  # the refusal raised inside the handler
        handler(Request(path))
    assert ran == [], f"GET {path} started a canary run (and its notifications)"
