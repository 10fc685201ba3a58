"""The HTML status of a seeded emulator, rendered by a real headless Chromium (Debian's
``chromium``) from ``file://``: the DOM it builds, and a screenshot kept as an artifact.

Chromium gets no network: every host name resolves to nothing and every
connection goes to a dead loopback proxy, so the page must (and does) render
from the file alone. Without Chromium the test is skipped, except under
CI=true, where that is a failure (as for the emulators).

``python -m tests.test_status_browser docs/status.png`` starts a Firestore
emulator, seeds the same day and writes the screenshot that docs/status.md shows.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_status import NOW_ARG, PHASE2, PHASE3, SCRIPT, parse, seed_day

WINDOW = (1400, 900)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
    "--mute-audio", "--hide-scrollbars",
    # loopback only, whatever the page or the browser itself would like to reach
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)
SHOWN_KEYS = [f"2026-02-{d:02d}" for d in range(3, 12)]


def chromium_path() -> Path | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def require_chromium() -> Path:
    """Chromium, or skip with the reason; under CI=true its absence fails the test."""
    found = chromium_path()
    if found is None:
        problem = ("Debian's chromium is not installed (/usr/bin/chromium); "
                   "apt-get install chromium")
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test cannot run: {problem} (CI=true: this is a failure)")
        pytest.skip(f"browser test skipped: {problem}")
    return found


def chromium(browser: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run in its own profile folder."""
    profile.mkdir(parents=True, exist_ok=True)
    return subprocess.run([str(browser), *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "HOME": str(profile)})


def dump_dom(browser: Path, page: Path, work: Path) -> str:
    done = chromium(browser, work / "profile-dom", "--dump-dom", page.resolve().as_uri())
    assert done.returncode == 0 and "<table" in done.stdout, done.stderr[-3000:]
    return done.stdout


def screenshot(browser: Path, page: Path, png: Path, work: Path) -> Path:
    """``page`` as Chromium shows it in a WINDOW-sized window, written to ``png``."""
    png.parent.mkdir(parents=True, exist_ok=True)
    done = chromium(browser, work / "profile-shot", f"--screenshot={png.resolve()}",
                    f"--window-size={WINDOW[0]},{WINDOW[1]}", page.resolve().as_uri())
    assert done.returncode == 0 and png.is_file(), done.stderr[-3000:]
    return png


def png_size(png: Path) -> tuple[int, int]:
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def status_html(project: str, firestore_host: str, out: Path) -> Path:
    """``phasegate status --format html`` of the seeded day, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if k != "PHASEGATE_REGISTRY"}
    env.update(GOOGLE_CLOUD_PROJECT=project, NO_GCE_CHECK="True",
               FIRESTORE_EMULATOR_HOST=firestore_host)
    done = subprocess.run([sys.executable, "-m", "phasegate", "status", "--format", "html",
                           "--now", NOW_ARG], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr  # LATE and STUCK alert
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(done.stdout, encoding="utf-8")
    return out


def artifacts() -> Path:
    """Where the screenshot is kept: $PHASEGATE_ARTIFACTS/status, else test-artifacts/status
    in the checkout (git-ignored), so that a CI run keeps it beside its log."""
    given = os.environ.get("PHASEGATE_ARTIFACTS")
    folder = (Path(given) if given else Path(__file__).resolve().parent.parent
              / "test-artifacts") / "status"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_status_page_in_a_real_browser(project_id, emulators, tmp_path):
    browser = require_chromium()
    seed_day(project_id, hostile=False)
    kept = artifacts()
    page = status_html(project_id, emulators["firestore"], kept / "status.html")
    dom = dump_dom(browser, page, tmp_path)
    (kept / "status.dom.html").write_text(dom, encoding="utf-8")
    parsed = parse(dom)
    assert parsed.rows == ["phase2_to_phase3", "phase3_to_phase4"]
    for key in SHOWN_KEYS:
        assert any(column.startswith(key) for column in parsed.columns), key
    by_state: dict[str, list[str]] = {}
    for attrs, text in parsed.cells:
        state = next((c[2:] for c in (attrs.get("class") or "").split() if c.startswith("s-")),
                     "")
        by_state.setdefault(state, []).append(text)
    [late] = by_state["LATE"]
    assert f"missing 1 {PHASE2[-1]}" in late and "ALERT" in late
    assert by_state["STUCK"] == ["■ STUCK ALERT complete, not fired"]
    assert len(by_state["TRIGGERED"]) == 4 and len(by_state["UNREADABLE"]) == 1
    assert all(name not in late for name in PHASE2[:-1])  # only the missing one is listed
    assert all(name not in " ".join(by_state["STUCK"]) for name in PHASE3)
    shot = screenshot(browser, page, kept / "status.png", tmp_path)
    assert png_size(shot) == WINDOW
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_hostile_strings_from_documents_are_text_in_the_browsers_dom(project_id, emulators,
                                                                       tmp_path):
    browser = require_chromium()
    seed_day(project_id, hostile=True)
    page = status_html(project_id, emulators["firestore"], tmp_path / "hostile.html")
    dom = dump_dom(browser, page, tmp_path)
    parsed = parse(dom)
    assert "script" not in [tag for tag, _ in parsed.tags]  # nothing became an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # the unknown name, as text
    assert f"failed{SCRIPT}" not in dom and "failed&lt;script&gt;" in dom


def main(argv: list[str]) -> int:
    """Write the documentation's screenshot: ``python -m tests.test_status_browser OUT.png``."""
    import tempfile
    import uuid

    from phasegate.scenario.emulators import Emulator, sdk_root

    out = Path(argv[0]) if argv else REPO / "docs" / "status.png"
    browser = chromium_path()
    sdk = sdk_root()
    if browser is None or sdk is None:
        print("needs /usr/bin/chromium and the Cloud SDK's Firestore emulator", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        emulator = Emulator("firestore", sdk).start(Path(work))
        try:
            os.environ.update(FIRESTORE_EMULATOR_HOST=emulator.host, NO_GCE_CHECK="True")
            project = f"docs-{uuid.uuid4().hex[:8]}"
            seed_day(project, hostile=False)
            page = status_html(project, emulator.host, Path(work) / "status.html")
            screenshot(browser, page, out, Path(work))
        finally:
            emulator.stop()
    print(f"wrote {out} ({png_size(out)[0]}x{png_size(out)[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
