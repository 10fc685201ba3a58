"""The adopter's path: the wheel in a fresh virtual environment, outside this repository.

Build the wheel, check it holds only ``phasegate/``, install it into a new
venv, scaffold a repository with ``phasegate init``, give it a registry with
other names, generate and validate, and serve its orchestrator with the real
functions-framework against the emulators: exactly one trigger.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from phasegate import __version__
from tests.conftest import REPO
from tests.functions_server import emulator_env, post_binary_cloud_event, push_body, serve
from tests.orchestrator_helpers import drain

OTHER_REGISTRY = """\
# yaml-language-server: $schema=schema.json
version: 1
pipeline: acme-orders
timezone: Europe/Berlin

scrapers:
  shop_api: {enabled: true}
  fax_gateway: {enabled: false, disabled_reason: nobody sends faxes}

processors:
  orders_loader: {phase: 1, inputs: [shop_api], aliases: [OrdersLoader]}
  payments_loader: {phase: 1, inputs: [shop_api], aliases: [PaymentsLoader]}
  refunds_loader: {phase: 1, inputs: [shop_api], aliases: [RefundsLoader]}
  fax_loader: {phase: 1, enabled: false, disabled_reason: input retired, inputs: [fax_gateway]}
  revenue_rollup: {phase: 2, inputs: [orders_loader, payments_loader]}

transitions:
  ingest_to_enrich:
    from_phase: 1
    to_phase: 2
    collection: ingest_done
    action: trigger
    trigger_topic: acme-enrich-trigger
    expects: all

canary:
  notify:
    - log: {}

generate:
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(out), str(REPO)], check=True, timeout=300,
                   capture_output=True)
    [built] = out.glob("phasegate-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A new venv with the wheel installed; dependencies come from this interpreter's
    site-packages through a plain path entry, which does not load this checkout's
    editable install."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True,
                   timeout=120)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # every site-packages folder this interpreter sees (a venv with system packages has two);
    # plain path lines never run the .pth files inside them, so no editable install leaks in
    folders = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    Path(purelib, "dependencies.pth").write_text("".join(f"{p}\n" for p in folders))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--quiet", str(wheel)], check=True, timeout=300,
                   capture_output=True)
    return root


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "NO_GCE_CHECK": "True", "HOME": str(cwd)}
    return subprocess.run([str(venv / "bin" / "python"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_wheel_holds_only_the_phasegate_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"phasegate", f"phasegate-{__version__}.dist-info"}, tops
    for pipeline_file in ("processors.yaml", "expected_processors.py", "expected.json"):
        assert not [n for n in names if n.endswith(pipeline_file)], pipeline_file
    assert "phasegate/registry/schema.json" in names  # the format's schema is the tool's


def test_nothing_but_phasegate_is_importable(venv, tmp_path):
    code = ("import importlib.util, phasegate; "
            "print(phasegate.__file__); "
            "print([n for n in ('registry', 'validator', 'orchestrator', 'canary', 'scenario') "
            "if importlib.util.find_spec(n)])")
    done = _run(venv, "-c", code, cwd=tmp_path)
    where, leaked = done.stdout.splitlines()
    assert where.startswith(str(venv)), where  # the wheel's copy, not this checkout
    assert leaked == "[]"


def test_a_repository_with_its_own_validator_package_runs_phasegate(venv, tmp_path):
    assert _run(venv, "-m", "phasegate", "init", ".", cwd=tmp_path).returncode == 0
    (tmp_path / "validator" / "__init__.py").write_text("raise SystemExit('wrong validator')\n")
    done = _run(venv, "-m", "phasegate", "validate", "--strict", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no problems found" in done.stderr


def test_init_generate_and_serve_a_pipeline_with_other_names(venv, tmp_path, project_id):
    repo = tmp_path / "acme"
    init = _run(venv, "-m", "phasegate", "init", str(repo), "--pipeline", "acme-orders",
                cwd=tmp_path)
    assert init.returncode == 0, init.stdout + init.stderr
    registry = repo / "registry" / "processors.yaml"
    generate_list = registry.read_text().split("\ngenerate:\n", 1)[1]
    registry.write_text(OTHER_REGISTRY + generate_list)
    for command in (("generate",), ("generate", "--check"), ("validate", "--strict")):
        done = _run(venv, "-m", "phasegate", *command, cwd=repo)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    main = (repo / "orchestrator" / "main.py").read_text()
    assert "from phasegate.orchestrator import function_handlers" in main
    requirements = (repo / "orchestrator" / "requirements.txt").read_text()
    assert requirements.splitlines()[-1] == f"phasegate[gcp]=={__version__}"

    from google.cloud import pubsub_v1

    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(project_id, "acme-enrich-trigger")
    publisher.create_topic(name=topic)
    subscription = subscriber.subscription_path(project_id, "enrich")
    subscriber.create_subscription(name=subscription, topic=topic)
    env = emulator_env(project_id, PHASEGATE_TRANSITION="ingest_to_enrich",
                       PATH=f"{venv / 'bin'}:/usr/bin:/bin")
    deliveries = [("OrdersLoader", "e1"), ("payments_loader", "e2"), ("RefundsLoader", "e3"),
                  ("RefundsLoader", "e3"), ("fax_loader", "e4")]  # a redelivery; a disabled one
    with serve(repo / "orchestrator" / "main.py", "on_completion", "cloudevent", env,
               tmp_path / "server.log", python=str(venv / "bin" / "python"), cwd=tmp_path) as url:
        statuses = [post_binary_cloud_event(url, push_body(
            {"processor_name": name, "run_key": "2026-03-02", "status": "success"}, event),
            event) for name, event in deliveries]
    log = (tmp_path / "server.log").read_text()
    assert statuses == [200] * len(deliveries), log[-3000:]
    [message] = drain(subscription)
    assert message["trigger_id"] == "ingest_to_enrich/2026-03-02"
    assert message["completed"] == ["orders_loader", "payments_loader", "refunds_loader"]
    lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
    assert [x["checkpoint"] for x in lines].count("TRIGGER_PUBLISHED") == 1
    assert str(venv) in _run(venv, "-c", "import phasegate; print(phasegate.__file__)",
                             cwd=tmp_path).stdout


def test_the_readme_deploy_snippets_name_the_published_action():
    text = textwrap.dedent((REPO / "README.md").read_text())
    assert "phasegate/phasegate/validator@v0" in text
    assert f"rev: v{__version__}" in text
