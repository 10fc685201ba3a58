"""Progress on long scans: a line on a terminal's stderr, nothing anywhere else."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import textwrap

from phasegate.progress import MIN_TOTAL, on_terminal
from tests.conftest import REPO


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_terminal_gets_no_reporter():
    assert on_terminal(io.StringIO(), "scan") is None
    assert on_terminal(None, "scan") is None


def test_a_terminal_sees_updates_at_most_every_interval_and_a_cleared_line_at_the_end():
    stream, moments = Terminal(), iter([0.0, 0.05, 0.2, 0.21, 0.5])
    report = on_terminal(stream, "phasegate: scanning", clock=lambda: next(moments))
    assert report is not None
    for done in (100, 200, 300, 400):
        report(done, 1000)
    report(1000, 1000)
    text = stream.getvalue()
    assert text.count("\rphasegate: scanning:") == 2  # 0.0 and 0.2; the others too soon
    assert "100/1000 files" in text and "300/1000 files" in text
    assert text.endswith("\r\033[K")


def test_a_small_scan_says_nothing():
    stream = Terminal()
    report = on_terminal(stream, "scan", clock=lambda: 0.0)
    assert report is not None
    report(MIN_TOTAL - 1, MIN_TOTAL - 1)
    assert stream.getvalue() == ""


def _tree(tmp_path, files=450):
    (tmp_path / "registry").mkdir()
    (tmp_path / "registry" / "processors.yaml").write_text(textwrap.dedent("""\
        version: 1
        pipeline: demo
        timezone: UTC
        processors:
          p2_a: {phase: 2}
        references:
          code: [src]
        """))
    (tmp_path / "src").mkdir()
    for index in range(files):
        (tmp_path / "src" / f"m{index}.py").write_text(f"VALUE = {index}\n")
    return tmp_path


def _validate(root, stderr):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "phasegate", "validate", "--root", str(root)],
                          stdout=subprocess.PIPE, stderr=stderr, env=env, timeout=120)


def test_validate_shows_progress_on_a_terminal_and_not_in_a_pipe(tmp_path):
    root = _tree(tmp_path)
    piped = _validate(root, subprocess.PIPE)
    assert piped.returncode == 0
    assert b"scanning" not in piped.stderr and b"\r" not in piped.stderr
    leader, follower = pty.openpty()
    try:
        result = _validate(root, follower)
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    assert result.returncode == 0
    assert b"phasegate: scanning: " in seen and b"/450 files" in seen
    assert b"\r\033[K" in seen  # the line is cleared before the summary
    assert result.stdout == piped.stdout  # what tools read is the same
