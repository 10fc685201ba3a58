"""`phasegate graph`: every edge of the reference registry in every format, escaping, and
the generated Mermaid (docs and the README's region) kept current by `generate`."""

from __future__ import annotations

import re
import subprocess
import textwrap
from xml.etree import ElementTree

import pytest

from phasegate.graph import dot, mermaid, svg
from phasegate.graph.model import build, node_id
from phasegate.registry.loading import load_registry, load_registry_text
from phasegate.registry.semantics import effective_enablement, expected_set
from tests.conftest import REFERENCE_REGISTRY, REPO, run_phasegate


def reference():
    registry = load_registry(REFERENCE_REGISTRY).registry
    assert registry is not None
    return registry


def expected_edges(registry) -> set[tuple[str, str, str]]:
    """Worked out from the registry here, independently of the model's code."""
    enabled = effective_enablement(registry)
    edges = set()
    for name, processor in registry.processors.items():
        for upstream in processor.inputs:
            kind = "scraper" if upstream in registry.scrapers else "processor"
            edges.add((node_id(kind, upstream), node_id("processor", name), "input"))
    for name, transition in registry.transitions.items():
        expected = expected_set(registry, transition, None, enabled)
        for processor_name, processor in registry.processors.items():
            if processor.phase == transition.from_phase:
                kind = "expected" if processor_name in expected else "not_expected"
                edges.add((node_id("processor", processor_name), node_id("transition", name),
                           kind))
            if processor.phase == transition.to_phase:
                edges.add((node_id("transition", name), node_id("processor", processor_name),
                           "starts"))
    return edges


def test_the_model_holds_every_edge_of_the_reference_registry():
    registry = reference()
    graph = build(registry)
    assert {(e.source, e.target, e.kind) for e in graph.edges} == expected_edges(registry)
    assert len(graph.edges) == len(expected_edges(registry)) >= 30
    bdl = graph.node("s_bdl_box_scores")
    assert not bdl.enabled and bdl.reason == "Ball Don't Lie API retired"
    assert not graph.node("p_p2_bdl_box_scores").enabled
    assert graph.node("p_p2_nbacom_schedule").season_level
    phase2 = graph.node("t_phase2_to_phase3")
    assert phase2.expected == tuple(sorted(expected_set(registry, registry.transitions[
        "phase2_to_phase3"])))


def test_mermaid_draws_every_edge_and_marks_disabled_and_season_level():
    registry = reference()
    text = mermaid.render(build(registry))
    arrows = {"input": "-->", "expected": "-->", "not_expected": "-. not expected .->",
              "starts": "==>"}
    for source, target, kind in expected_edges(registry):
        assert f"  {source} {arrows[kind]} {target}\n" in text, (source, target)
    assert re.search(r"class [^\n]*\bs_bdl_box_scores\b[^\n]* disabled", text)
    assert "disabled: Ball Don't Lie API retired" in text
    assert re.search(r"class [^\n]*\bp_p2_nbacom_schedule\b[^\n]* season", text)
    assert "#8226; p2_nbacom_boxscores" in text  # the expected set, one per line


def test_dot_draws_every_edge_and_is_valid_for_graphviz():
    registry = reference()
    text = dot.render(build(registry))
    for source, target, kind in expected_edges(registry):
        suffix = {"not_expected": ' [style=dashed, label="not expected"]',
                  "starts": " [style=bold]"}.get(kind, "")
        assert f'  "{source}" -> "{target}"{suffix};\n' in text
    assert text.count("{") == text.count("}")
    assert 'fillcolor="#e6e6e6"' in text
    import shutil

    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg"], input=text, text=True, check=True,
                       capture_output=True)


def test_svg_is_well_formed_with_a_node_and_a_path_per_edge():
    registry = reference()
    graph = build(registry)
    root = ElementTree.fromstring(svg.render(graph))
    ns = "{http://www.w3.org/2000/svg}"
    groups = {g.get("id") for g in root.iter(f"{ns}g")}
    assert groups == {n.id for n in graph.nodes}
    paths = [p for p in root.iter(f"{ns}path") if "edge" in (p.get("class") or "")]
    assert len(paths) == len(graph.edges)
    assert root.get("role") == "img" and root.find(f"{ns}title") is not None


HOSTILE = textwrap.dedent("""\
    version: 1
    pipeline: 'demo"; evil'
    timezone: UTC
    scrapers:
      feed: {enabled: false, disabled_reason: 'a "quote"] --> x{{y}} <script>alert(1)</script> #1 \\\\'}
    processors:
      p2_a: {phase: 2, inputs: [feed], aliases: [A]}
      p2_b: {phase: 2}
    transitions:
      t: {from_phase: 2, to_phase: 3, collection: c, expects: [p2_b]}
    """)


def test_free_text_cannot_break_out_of_any_format():
    loaded = load_registry_text(HOSTILE, "hostile.yaml")
    assert loaded.registry is not None, "the hostile registry must be valid"
    graph = build(loaded.registry)
    text = mermaid.render(graph)
    label = next(line for line in text.splitlines() if line.strip().startswith("s_feed"))
    inner = label.split('(["', 1)[1].rsplit('"])', 1)[0].replace("<br/>", "")
    assert not set(inner) & set('"[]{}<>()|`'), inner
    assert "#60;script#62;" in inner
    drawn = dot.render(graph)
    for line in drawn.splitlines():  # every quote inside a string is escaped
        assert len(re.findall(r'(?<!\\)"', line)) % 2 == 0, line
    ElementTree.fromstring(svg.render(graph))  # well-formed: nothing escaped the markup
    assert "<script>" not in svg.render(graph)


def test_graph_command_line_formats_and_a_broken_registry(tmp_path):
    for fmt, start in (("mermaid", "flowchart LR"), ("dot", 'digraph "nba-stats"'),
                       ("svg", "<svg ")):
        result = run_phasegate("graph", "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(start)
    broken = tmp_path / "registry.yaml"
    broken.write_text("version: 1\npipeline: x\n")
    result = run_phasegate("graph", "--registry", str(broken), "--root", str(tmp_path))
    assert result.returncode == 2
    assert "has errors (PG003); a picture of it would mislead" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_readme_and_docs_carry_the_current_graph():
    body = mermaid.render(build(reference()))
    readme = (REPO / "README.md").read_text()
    region = readme.split("<!-- phasegate:mermaid -->", 1)[1].split(
        "<!-- /phasegate:mermaid -->", 1)[0]
    assert "```mermaid\n" + body + "```" in region
    assert "```mermaid\n" + body + "```" in (REPO / "docs" / "pipeline-graph.md").read_text()


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "registry").mkdir()
    text = REFERENCE_REGISTRY.read_text().split("\ngenerate:")[0] + textwrap.dedent("""
        generate:
          - {path: GRAPH.md, format: mermaid}
          - {path: README.md, format: mermaid}
        """)
    (tmp_path / "registry" / "processors.yaml").write_text(text)
    (tmp_path / "README.md").write_text("# mine\n\nbefore\n<!-- phasegate:mermaid -->\nold\n"
                                        "<!-- /phasegate:mermaid -->\nafter\n")
    return tmp_path


def test_generate_fills_only_the_marked_region_and_check_sees_a_stale_one(repo):
    result = run_phasegate("generate", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    readme = (repo / "README.md").read_text()
    assert readme.startswith("# mine\n\nbefore\n<!-- phasegate:mermaid -->\n<!-- Generated")
    assert readme.endswith("```\n<!-- /phasegate:mermaid -->\nafter\n")
    assert "old" not in readme
    assert run_phasegate("generate", "--root", str(repo), "--check").returncode == 0
    (repo / "README.md").write_text(readme.replace("p_p2_nbacom_boxscores -->",
                                                   "p_p2_nbacom_boxscores -.->"))
    stale = run_phasegate("generate", "--root", str(repo), "--check")
    assert stale.returncode == 1 and "README.md is stale" in stale.stderr
    assert run_phasegate("validate", "--root", str(repo)).returncode == 1  # PG201 too


def test_a_markdown_file_without_markers_or_header_is_never_overwritten(repo):
    (repo / "README.md").write_text("# mine, no markers\n")
    result = run_phasegate("generate", "--root", str(repo))
    assert result.returncode == 2
    assert "was not generated by phasegate" in result.stderr
    assert (repo / "README.md").read_text() == "# mine, no markers\n"
