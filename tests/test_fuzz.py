"""Property: whatever the input, validate ends with 0, 1 or 2 and a message, never a traceback."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.cli import main
from tests.conftest import REFERENCE_REGISTRY

REFERENCE_LINES = REFERENCE_REGISTRY.read_text(encoding="utf-8").splitlines(keepends=True)
YAMLISH = st.sampled_from([
    "yes", "no", "on", "~", "[", "]", "{", "}", ":", "- ", "&a ", "*a", "<<: *a", "!!python/object",
    "'", '"', "\t", "  ", "2026-02-30", "0x1F", "1e400", "true", "null", "p2_bdl_box_scores",
    "NbacGamebookProcessor", "expects: all", "phase: 3", "---", "%YAML 1.1", "\x00", "\ufeff",
])
FUZZ_SETTINGS = settings(max_examples=150, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])


def _validate(content: bytes) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "processors.yaml"
        path.write_bytes(content)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", "--registry", str(path), "--root", directory])
        return code, out.getvalue(), err.getvalue()


def _assert_clean_outcome(content: bytes) -> None:
    code, out, err = _validate(content)
    assert code in (0, 1, 2)
    assert "internal error" not in err, err
    assert "Traceback" not in out + err
    assert err.strip(), "every run says something"
    if code == 1:
        assert out.strip(), "a failing run names its findings"


@FUZZ_SETTINGS
@given(st.text())
def test_arbitrary_text(text):
    _assert_clean_outcome(text.encode("utf-8", "surrogatepass"))


@FUZZ_SETTINGS
@given(st.binary())
def test_arbitrary_bytes(data):
    _assert_clean_outcome(data)


@st.composite
def mutated_reference(draw) -> bytes:
    lines = list(REFERENCE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "insert", "replace", "indent",
                                       "truncate", "swap"]))
        line = lines[index]
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        elif action == "insert":
            column = draw(st.integers(0, len(line)))
            token = draw(st.one_of(YAMLISH, st.text(max_size=8)))
            lines[index] = line[:column] + token + line[column:]
        elif action == "replace":
            key, sep, _ = line.partition(":")
            lines[index] = f"{key}{sep} {draw(YAMLISH)}\n" if sep else draw(YAMLISH) + "\n"
        elif action == "indent":
            lines[index] = " " * draw(st.integers(0, 6)) + line.lstrip(" ")
        elif action == "truncate":
            lines[index] = line[: draw(st.integers(0, len(line)))]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        if not lines:
            break
    return "".join(lines).encode("utf-8", "surrogatepass")


@FUZZ_SETTINGS
@given(mutated_reference())
def test_mutated_reference_registry(content):
    _assert_clean_outcome(content)
