"""Property: whatever the input, validate ends with 0, 1 or 2 and a message, never a traceback."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.cli import main
from tests.registries import DATA, SMALL_TEXT

# A whole registry to mutate: the small test registry, with its calendar beside it so that
# validation goes on to compare the generated artifacts (tests/registries.py).
REGISTRY_LINES = SMALL_TEXT.splitlines(keepends=True)
CALENDAR = (DATA / "small-calendar.txt").read_bytes()
YAMLISH = st.sampled_from([
    "yes", "no", "on", "~", "[", "]", "{", "}", ":", "- ", "&a ", "*a", "<<: *a", "!!python/object",
    "'", '"', "\t", "  ", "2026-02-30", "0x1F", "1e400", "true", "null", "p2_retired",
    "BoxProcessor", "expects: all", "phase: 3", "---", "%YAML 1.1", "\x00", "\ufeff",
])
FUZZ_SETTINGS = settings(max_examples=150, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])


def _validate(content: bytes) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "processors.yaml"
        path.write_bytes(content)
        (Path(directory) / "small-calendar.txt").write_bytes(CALENDAR)
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
def mutated_registry(draw) -> bytes:
    lines = list(REGISTRY_LINES)
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
@given(mutated_registry())
def test_mutated_registry(content):
    _assert_clean_outcome(content)
