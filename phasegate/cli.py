"""The ``phasegate`` command line: thin, and quick to start.

Each command imports what it needs when it runs, so ``phasegate validate``
never pays for Google Cloud libraries (a test holds it to that).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
DEFAULT_REGISTRY = Path("registry") / "processors.yaml"
FORMATS = ("text", "json", "github", "sarif")

EXIT_CODES_HELP = """\
exit codes:
  0  clean (warnings allowed unless --strict)
  1  findings at error level (or warnings with --strict)
  2  usage error, unreadable input or internal failure
"""


class UsageError(Exception):
    """Bad arguments or unreadable input: exit 2 with a one-line message."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phasegate",
        description=(
            "Keep a multi-phase pipeline honest about what it expects: one YAML registry "
            "says which scrapers and processors exist and which are enabled; phasegate "
            "checks everything else against it."
        ),
        epilog="Run 'phasegate COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    validate = commands.add_parser(
        "validate",
        help="check the registry for drift and mistakes (pre-commit and CI)",
        description=(
            "Check the registry: YAML syntax, duplicate keys, unknown fields and ambiguous "
            "booleans, unknown or disabled names in expected sets, alias conflicts, "
            "season-level processors expected per run key, phase mismatches, timing and "
            "input cycles. Every finding has a file, line, column and a rule code "
            "(see docs/rules.md)."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _registry_options(validate)
    validate.add_argument(
        "--format", choices=FORMATS, default="text",
        help="text (default): path:line:col: severity CODE [name] message; json; github: "
             "workflow commands that annotate pull requests; sarif: SARIF 2.1.0 for code "
             "scanning",
    )
    validate.add_argument(
        "--strict", action="store_true", help="fail (exit 1) on warnings too",
    )
    validate.set_defaults(run=_validate)

    generate = commands.add_parser(
        "generate",
        help="write the runtime's artifacts from the registry (or --check them)",
        description=(
            "Write every artifact listed under 'generate:' in the registry: a standard-library "
            "Python module for the orchestrator and a JSON file for the canary, each carrying "
            "the expected and required sets, modes, aliases, timing and the registry digest. "
            "Output is deterministic; files are written only when their content changes. "
            "With --check, write nothing: print a unified diff for every stale or missing "
            "artifact and exit 1."
        ),
        epilog="""\
exit codes:
  0  every artifact written (or, with --check, current)
  1  with --check: an artifact is stale or missing; or the registry has errors
  2  usage error, unreadable input or internal failure
""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _registry_options(generate)
    generate.add_argument("--check", action="store_true",
                          help="compare instead of writing; exit 1 with a diff when stale")
    generate.set_defaults(run=_generate)
    return parser


def _registry_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--registry", metavar="PATH", type=Path,
        help="the registry file (default: $PHASEGATE_REGISTRY, else "
             "registry/processors.yaml under --root)",
    )
    command.add_argument(
        "--root", metavar="DIR", type=Path, default=Path("."),
        help="the repository root; artifact and finding paths are relative to it (default: .)",
    )


def _registry_path(args: argparse.Namespace) -> Path:
    root: Path = args.root
    if not root.is_dir():
        raise UsageError(f"--root {root}: not a directory")
    if args.registry is not None:
        return Path(args.registry)
    from_env = os.environ.get("PHASEGATE_REGISTRY")
    if from_env:
        path = Path(from_env)
        return path if path.is_absolute() else root / path
    return root / DEFAULT_REGISTRY


def _display(path: Path, root: Path) -> str:
    """Paths in findings: relative to the root when inside it, as CI annotations want."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _validate(args: argparse.Namespace) -> int:
    from registry.yaml_loader import UnreadableFile
    from validator.check import check_registry
    from validator.findings import summarize
    from validator.reporters import REPORTERS

    path = _registry_path(args)
    shown = _display(path, args.root)
    if not path.exists():
        raise UsageError(f"{shown}: no such file (give --registry PATH or --root DIR)")
    try:
        findings = check_registry(path, shown, args.root)
    except UnreadableFile as error:
        raise UsageError(str(error)) from error
    sys.stdout.write(REPORTERS[args.format](findings))
    summary = summarize(findings)
    if findings:
        print(f"phasegate: {shown}: {summary.errors} error(s), {summary.warnings} warning(s)",
              file=sys.stderr)
    else:
        print(f"phasegate: {shown}: no problems found", file=sys.stderr)
    failed = summary.errors > 0 or (args.strict and summary.warnings > 0)
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _generate(args: argparse.Namespace) -> int:
    import difflib

    from registry.generate import render_all
    from registry.loading import load_registry
    from registry.yaml_loader import UnreadableFile
    from validator.check import check_loaded
    from validator.reporters import REPORTERS

    path = _registry_path(args)
    shown = _display(path, args.root)
    if not path.exists():
        raise UsageError(f"{shown}: no such file (give --registry PATH or --root DIR)")
    try:
        loaded = load_registry(path, shown)
    except UnreadableFile as error:
        raise UsageError(str(error)) from error
    if loaded.registry is None:
        sys.stdout.write(REPORTERS["text"](check_loaded(loaded)))
        print(f"phasegate: {shown} has errors; nothing generated", file=sys.stderr)
        return EXIT_FINDINGS
    artifacts = render_all(loaded.registry, shown)
    if not artifacts:
        print(f"phasegate: {shown} lists nothing under 'generate:'", file=sys.stderr)
        return EXIT_CLEAN
    stale = 0
    for artifact in artifacts:
        target = args.root / artifact.path
        try:
            current = target.read_text(encoding="utf-8") if target.exists() else None
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"{artifact.path}: cannot read: {error}") from error
        if current == artifact.text:
            print(f"phasegate: {artifact.path} is up to date", file=sys.stderr)
            continue
        if args.check:
            stale += 1
            before = [] if current is None else current.splitlines(keepends=True)
            sys.stdout.writelines(difflib.unified_diff(
                before, artifact.text.splitlines(keepends=True),
                fromfile=f"a/{artifact.path}" if current is not None else "/dev/null",
                tofile=f"b/{artifact.path}"))
            state = "missing" if current is None else "stale"
            print(f"phasegate: {artifact.path} is {state}", file=sys.stderr)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(artifact.text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"{artifact.path}: cannot write: {error.strerror}") from error
        print(f"phasegate: wrote {artifact.path}", file=sys.stderr)
    if stale:
        print(f"phasegate: {stale} artifact(s) out of date; run `phasegate generate`",
              file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except UsageError as error:
        print(f"phasegate: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the last line of defence, never a traceback
        print(f"phasegate: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_USAGE
