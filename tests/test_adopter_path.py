"""What an adopter meets first: the documented install, the first commands, the first deploy."""

from __future__ import annotations

import io
import sys
import tomllib

import pytest

from phasegate.deploy import commands
from phasegate.registry.loading import load_registry
from tests.conftest import REPO

SOURCE = "registry/processors.yaml"


# --- deploy plan --check after `pip install 'phasegate[gcp]'` ----------------------------------


def test_the_gcp_extra_brings_the_discovery_documents() -> None:
    """README's main job installs only [gcp], then runs `deploy plan --check`."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    gcp = project["optional-dependencies"]["gcp"]
    assert any(requirement.startswith("google-api-python-client") for requirement in gcp), gcp


def test_missing_discovery_documents_fail_before_gcloud_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    registry = load_registry(REPO / SOURCE, SOURCE).registry
    assert registry is not None
    monkeypatch.setitem(sys.modules, "googleapiclient", None)  # as if not installed
    calls: list[object] = []
    monkeypatch.setattr(commands, "check_plan", lambda steps, *a, **k: calls.append(steps))
    out, err = io.StringIO(), io.StringIO()
    code = commands.plan_command(registry, SOURCE, REPO, project=None, region=None, check=True,
                                 out=out, err=err)
    assert code == 2
    assert calls == []  # gcloud was never run
    assert "the discovery documents come with google-api-python-client; install it" in (
        err.getvalue())
    assert out.getvalue() == ""
