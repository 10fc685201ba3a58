"""``phasegate deploy plan`` and ``phasegate deploy build``: the I/O edge the command line calls.

Each function prints and returns the exit code: 0 clean; 1 a command that
gcloud would not parse, a name or resource Google Cloud would reject, a
registry with errors, or a build from stale or broken sources; 2 a usage
error or a missing tool (no gcloud, no discovery documents), so CI never
mistakes "could not check" for "checked".

``deploy plan`` writes the script and nothing else to its ``out`` (stdout),
and only a complete one, so that ``phasegate deploy plan | bash`` can only
ever run the plan: findings, summaries and errors all go to ``err``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from phasegate.deploy.build import BrokenSource, BuildError, StaleSources, build
from phasegate.deploy.discovery import DiscoveryUnavailable, load_discovery
from phasegate.deploy.gcloud_check import CheckResult, GcloudUnavailable, check_plan
from phasegate.deploy.names import InvalidNames, PlanError
from phasegate.deploy.plan import plan_commands, render_plan
from phasegate.deploy.resources import KINDS, Discovery, ResourceFinding, check_resource_text
from phasegate.deploy.steps import PlanStep
from phasegate.registry.generate import NO_INPUTS, render_canary_monitoring, render_scheduler
from phasegate.registry.loading import LoadedRegistry
from phasegate.registry.models import Registry

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_BYTES = 8 * 1024 * 1024
RENDER = {"cloud-scheduler": render_scheduler, "canary-monitoring": render_canary_monitoring}


def plan_command(registry: Registry, source: str, root: Path, *, project: str | None,
                 region: str | None, check: bool, out: TextIO, err: TextIO) -> int:
    """Print the plan to ``out``; with ``check``, check it offline and summarize on ``err``.

    ``out`` receives the whole script in one write, or nothing: nothing when the
    plan cannot be made, and with ``check`` nothing unless the check passed, so
    a failed check piped into bash deploys nothing. Everything else goes to ``err``.
    """
    try:
        steps = plan_commands(registry, source, project=project, region=region)
        script = render_plan(registry, source, project=project, region=region)
    except InvalidNames as error:
        print(f"phasegate: error: {error}", file=err)
        return EXIT_FAILED
    except PlanError as error:
        print(f"phasegate: error: {error}", file=err)
        return EXIT_USAGE
    code = _check(registry, source, root, steps, err) if check else EXIT_OK
    if code == EXIT_OK:
        out.write(script)
    else:
        print("phasegate: the check did not pass; no plan written", file=err)
    return code


def plan_loaded_command(loaded: LoadedRegistry, root: Path, *, project: str | None,
                        region: str | None, check: bool, out: TextIO, err: TextIO) -> int:
    """:func:`plan_command` for a loaded registry: one with errors gets its findings on ``err``.

    For the command line: the findings never reach ``out``, where ``| bash``
    would run them as commands.
    """
    if loaded.registry is None:
        from phasegate.validator.check import check_loaded
        from phasegate.validator.reporters import REPORTERS

        err.write(REPORTERS["text"](check_loaded(loaded, root)))
        print(f"phasegate: {loaded.path} has errors; no plan written", file=err)
        return EXIT_FAILED
    return plan_command(loaded.registry, loaded.path, root, project=project, region=region,
                        check=check, out=out, err=err)


def _check(registry: Registry, source: str, root: Path, steps: list[PlanStep],
           err: TextIO) -> int:
    """Every gcloud command through gcloud's parser, every resource against its schema.

    The discovery documents are loaded first: without them the check cannot
    pass, so it fails at once instead of after every gcloud command has run.
    """
    try:
        discovery = load_discovery()
        result = check_plan(steps)
    except (GcloudUnavailable, DiscoveryUnavailable) as error:
        print(f"phasegate: error: cannot check: {error}", file=err)
        return EXIT_USAGE
    _report_commands(result, err)
    findings = check_resources(registry, source, root, discovery)
    for finding in findings:
        print(f"phasegate: {finding}", file=err)
    errors = [finding for finding in findings if finding.severity == "error"]
    if not errors:
        print(f"phasegate: resources valid against the discovery documents "
              f"({', '.join(_revisions(discovery))})", file=err)
    return EXIT_FAILED if errors or not result.ok else EXIT_OK


def _report_commands(result: CheckResult, err: TextIO) -> None:
    gcloud = [check for check in result.checks if check.outcome != "unchecked"]
    print(f"phasegate: {len(gcloud)} gcloud commands through gcloud's own parser in "
          f"{result.seconds:.1f} s (offline, no credentials): {result.count('parsed')} parsed, "
          f"{len(result.failures)} failed", file=err)
    for check in result.checks:
        if check.outcome == "unchecked":
            print(f"phasegate: not gcloud, not checked: {check.description}", file=err)
        elif check.failed:
            print(f"phasegate: {check.outcome}: {check.description}\n"
                  f"    {' '.join(check.argv)}\n"
                  + "".join(f"    {line}\n" for line in check.message.splitlines()),
                  end="", file=err)


def _revisions(discovery: Discovery) -> list[str]:
    return [f"{name} {document.get('revision', '?')}" for name, document in discovery.items()]


def check_resources(registry: Registry, source: str, root: Path,
                    discovery: Discovery) -> list[ResourceFinding]:
    """Findings for each resource kind: the generated file under ``root``, else rendered now."""
    findings: list[ResourceFinding] = []
    for kind in KINDS:
        targets = [t.path for t in registry.generate if t.format == kind]
        texts = [(path, _read(root, path)) for path in targets]
        rendered = RENDER[kind](registry, source, NO_INPUTS)
        if not texts:
            texts = [(f"{kind} (rendered; not generated into deploy/)", rendered)]
        for label, text in texts:
            if text is None:
                label, text = f"{label} (missing; rendered)", rendered
            findings += check_resource_text(kind, text, discovery, label)
    return findings


def _read(root: Path, relative: str) -> str | None:
    """A generated file's text, read only inside ``root``; None when absent or unreadable."""
    base = root.resolve()
    path = (base / relative).resolve()
    if Path(relative).is_absolute() or (path != base and base not in path.parents):
        return None
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        return raw.decode("utf-8") if len(raw) <= MAX_BYTES else None
    except (OSError, UnicodeDecodeError):
        return None


def build_command(root: Path, registry_path: Path, out_dir: Path, err: TextIO) -> int:
    """Write the self-contained function sources into ``out_dir``."""
    try:
        written = build(root, registry_path, out_dir)
    except (StaleSources, BrokenSource) as error:
        print(f"phasegate: error: {error}", file=err)
        return EXIT_FAILED
    except (BuildError, OSError) as error:
        print(f"phasegate: error: {error}", file=err)
        return EXIT_USAGE
    folders = sorted({name.split("/", 1)[0] for name in written})
    print(f"phasegate: wrote {len(written)} files to {out_dir} "
          f"({', '.join(f'{folder}/' for folder in folders)}); the plan deploys them",
          file=err)
    return EXIT_OK
