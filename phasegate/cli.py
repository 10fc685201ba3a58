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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phasegate.canary.evaluate import Settings
    from phasegate.registry.models import Registry

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
    init = commands.add_parser(
        "init", help="scaffold registry/, orchestrator/, canary/ and validator/ in a repository",
        description=(
            "Create what a pipeline needs to adopt phasegate: a commented starter registry "
            "that validates, the deployable orchestrator and canary folders (three-line "
            "main.py files and their generated expectations), validator/, a pre-commit "
            "config and a CI workflow. Only missing files are created; an existing file is "
            "never overwritten, and the lines to add to it are printed instead."),
        epilog="""\
exit codes:
  0  done (existing files kept, lines to add printed)
  1  the generated artifacts could not be written for the new registry
  2  DIR is not a directory, --prefix leaves DIR, or a path resolves outside DIR
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    init.add_argument("directory", metavar="DIR", nargs="?", type=Path, default=Path("."),
                      help="the repository to scaffold (default: .; created when missing)")
    init.add_argument("--pipeline", metavar="NAME",
                      help="the pipeline's name (default: DIR's folder name)")
    init.add_argument("--prefix", metavar="PATH",
                      help="put the four folders under PATH (relative to DIR) when the "
                           "top-level names are taken")
    init.set_defaults(run=_init)
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

    deploy = commands.add_parser(
        "deploy", help="the gcloud commands that deploy the pipeline, and its function sources",
        description="Deployment: `deploy plan` prints the gcloud commands (and checks them "
                    "offline with --check); `deploy build DIR` writes self-contained function "
                    "sources.")
    deploy_commands = deploy.add_subparsers(dest="deploy_command", metavar="COMMAND",
                                            required=True)
    plan = deploy_commands.add_parser(
        "plan", help="print the gcloud commands that deploy the registry, in order",
        description=(
            "Print a bash script of gcloud commands that deploys the registry: one private "
            "HTTP orchestrator function per transition with its push subscription (dead-letter "
            "topic, max delivery attempts, acknowledgement deadline) and run.invoker binding, "
            "the canary function with its Scheduler job, heartbeat metric and alert policy. "
            "With --check, run every gcloud command through the installed gcloud's own "
            "argument parser in a sandbox that can never deploy (no credentials, temporary "
            "configuration, no metadata server)."),
        epilog="""\
exit codes:
  0  plan printed (with --check: every command parsed, every resource valid)
  1  the registry has errors (no plan), or --check found a command or resource invalid
  2  usage error, unreadable registry, or gcloud missing for --check
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    _registry_options(plan)
    plan.add_argument("--project", help="Google Cloud project (default: deploy.project, "
                                        "else ${PROJECT} in the script)")
    plan.add_argument("--region", help="region (default: deploy.region, else ${REGION})")
    plan.add_argument("--check", action="store_true",
                      help="parse every gcloud command offline instead of only printing")
    plan.set_defaults(run=_deploy_plan)
    build = deploy_commands.add_parser(
        "build", help="write self-contained orchestrator and canary sources into DIR",
        description="Copy the deployable folders (main.py and the generated files beside it) "
                    "into DIR with phasegate's runtime code vendored, for `gcloud functions "
                    "deploy --source DIR/orchestrator` before phasegate is on the package "
                    "index.")
    build.add_argument("directory", metavar="DIR", type=Path)
    _registry_options(build)
    build.set_defaults(run=_deploy_build)

    canary = commands.add_parser(
        "canary", help="the runtime canary: check transitions, alert on changes",
        description="The runtime canary over the orchestrator's Firestore documents.")
    canary_commands = canary.add_subparsers(dest="canary_command", metavar="COMMAND",
                                            required=True)
    run = canary_commands.add_parser(
        "run", help="evaluate every transition over the lookback window and notify",
        description=(
            "Evaluate every transition for every run key from today - lookback_days through "
            "tomorrow (in the registry's timezone) and notify on incident changes: an alert "
            "when an incident opens, again after renotify_hours, and once when it resolves. "
            "Uses GOOGLE_CLOUD_PROJECT (or --project) and FIRESTORE_EMULATOR_HOST as usual. "
            "With --now the run is a replay and a dry run (nothing sent, no incident opened "
            "or resolved, no heartbeat) unless --record is given."),
        epilog="""\
exit codes:
  0  the run completed and nothing is alerting
  1  the run completed and at least one incident is open
  2  usage error or unreadable registry
  3  the canary could not do its job (no credentials, Firestore unreadable, a notification
     undeliverable, settings it cannot use); reported through every channel that works
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    _registry_options(run)
    run.add_argument("--once", action="store_true",
                     help="run once and exit (without it: run at the canary's schedule interval)")
    run.add_argument("--now", metavar="ISO-8601", type=_moment,
                     help="evaluate as if at this moment (backtesting); a dry run unless "
                          "--record is given; default: the clock")
    run.add_argument("--record", action="store_true",
                     help="with --now: send the alerts and record incidents and the heartbeat "
                          "as of that moment (without it a replay never opens or resolves "
                          "real incidents)")
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.add_argument("--dry-run", action="store_true",
                     help="evaluate and print, but send and store nothing")
    run.add_argument("--project", help="Google Cloud project (default: $GOOGLE_CLOUD_PROJECT)")
    run.set_defaults(run=_canary_run)
    heartbeat = canary_commands.add_parser(
        "heartbeat", help="exit 1 when the canary's last run is older than --max-age",
        description="Read the pipeline's canary heartbeat (phasegate_canary/heartbeat__"
                    "<pipeline>): exit 0 when the last run is recent, 1 when it is older than "
                    "--max-age or missing, 3 when Firestore cannot be read (no credentials, "
                    "unreachable; reported through the canary's channels too).")
    _registry_options(heartbeat)
    heartbeat.add_argument("--max-age", type=_duration, default=_duration("45m"),
                           help="such as 45m, 2h (default 45m)")
    heartbeat.add_argument("--project", help="Google Cloud project")
    heartbeat.add_argument("--now", metavar="ISO-8601", type=_moment)
    heartbeat.set_defaults(run=_canary_heartbeat)

    explain = commands.add_parser(
        "explain", help="what a transition's document says for a run key, and why",
        description="One screen: what the document holds, what is expected in that mode, "
                    "what is missing and why, and what the canary would do. Read only.",
        epilog="""\
exit codes:
  0  explained
  2  usage error or unreadable registry
  3  Firestore cannot be read (no credentials, unreachable)
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    explain.add_argument("transition")
    explain.add_argument("run_key", metavar="RUN_KEY")
    _registry_options(explain)
    explain.add_argument("--now", metavar="ISO-8601", type=_moment)
    explain.add_argument("--project", help="Google Cloud project")
    explain.set_defaults(run=_explain)

    test = commands.add_parser(
        "test", help="replay scenario files through the orchestrator and canary",
        description=(
            "Run scenario files (or every *.yaml in the directories given): simulated time, "
            "completion messages through the real orchestrator, the canary every "
            "canary_every, against the official Firestore and Pub/Sub emulators (started "
            "here unless FIRESTORE_EMULATOR_HOST and PUBSUB_EMULATOR_HOST are set). Each "
            "expectation passes or fails with the simulated time it happened."),
        epilog="""\
exit codes:
  0  every scenario passed
  1  a scenario failed
  2  a malformed scenario (with file, line and column), or no emulators
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    test.add_argument("paths", nargs="+", metavar="SCENARIO_OR_DIR", type=Path)
    test.add_argument("--junit", metavar="FILE", type=Path, help="also write JUnit XML here")
    test.add_argument("--format", choices=("text", "json"), default="text")
    test.set_defaults(run=_test)
    return parser


def _moment(text: str) -> object:
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 time") from error
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, such as +00:00")
    return moment


def _duration(text: str) -> object:
    import datetime as dt
    import re

    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 45m or 2h")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return dt.timedelta(**{unit: int(match.group(1))})


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


def _refuse_escape(path: Path, root: Path, shown: str) -> None:
    """A registry inside the root must not be a symlink out of it (a pull request can commit
    one); a registry named outside the root with --registry is the user's own choice."""
    from phasegate.registry.confine import is_within

    base = root.resolve()
    if is_within(Path(os.path.abspath(path)), base) and not is_within(path.resolve(), base):
        raise UsageError(f"{shown}: resolves outside the repository root through a symlink; "
                         "not read")


def _load(args: argparse.Namespace) -> Any:
    """The registry named by --registry/--root/PHASEGATE_REGISTRY, loaded (maybe invalid).

    A missing or unreadable file is a usage error (exit 2), with the path.
    """
    from phasegate.registry.loading import load_registry
    from phasegate.registry.yaml_loader import UnreadableFile

    path = _registry_path(args)
    shown = _display(path, args.root)
    if not path.exists():
        raise UsageError(f"{shown}: no such file (give --registry PATH or --root DIR)")
    _refuse_escape(path, args.root, shown)
    try:
        return load_registry(path, shown)
    except UnreadableFile as error:
        raise UsageError(str(error)) from error


def _validate(args: argparse.Namespace) -> int:
    from phasegate.validator.check import check_loaded
    from phasegate.validator.findings import summarize
    from phasegate.validator.reporters import REPORTERS

    loaded = _load(args)
    shown = loaded.path
    findings = check_loaded(loaded, args.root)
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
    from phasegate.generation import generate

    path = _registry_path(args)
    shown = _display(path, args.root)
    if not path.exists():
        raise UsageError(f"{shown}: no such file (give --registry PATH or --root DIR)")
    _refuse_escape(path, args.root, shown)
    return generate(path, args.root, check=args.check, out=sys.stdout, err=sys.stderr,
                    shown=shown)


def _init(args: argparse.Namespace) -> int:
    from phasegate.scaffold import init_command

    return init_command(args.directory, pipeline=args.pipeline, prefix=args.prefix,
                        out=sys.stdout, err=sys.stderr)


def _deploy_plan(args: argparse.Namespace) -> int:
    from phasegate.deploy.commands import plan_loaded_command

    # only the script reaches stdout (`deploy plan | bash`); findings go to stderr
    return plan_loaded_command(_load(args), args.root, project=args.project,
                               region=args.region, check=args.check, out=sys.stdout,
                               err=sys.stderr)


def _deploy_build(args: argparse.Namespace) -> int:
    from phasegate.deploy.commands import build_command

    path = _registry_path(args)
    _refuse_escape(path, args.root, _display(path, args.root))
    return build_command(args.root, path, args.directory, err=sys.stderr)


def _canary_settings(args: argparse.Namespace) -> tuple[Registry, Settings]:
    from phasegate.generation import GenerationError, canary_settings

    loaded = _load(args)
    shown = loaded.path
    if loaded.registry is None:
        raise UsageError(f"{shown} has errors; run `phasegate validate`")
    try:
        settings = canary_settings(loaded.registry, shown, args.root)
    except GenerationError as error:
        raise UsageError(str(error)) from error
    return loaded.registry, settings


def _firestore(project: str | None) -> Any:
    """A Firestore client; FirestoreUnavailable (one line) when none can be made."""
    from phasegate.canary.store import firestore_client

    return firestore_client(project)


def _canary_run(args: argparse.Namespace) -> int:
    import datetime as dt
    import json
    import time

    from phasegate.canary.run import EXIT_FAILED, RunResult, report_failure, run_once
    from phasegate.canary.settings import interval_minutes
    from phasegate.canary.store import CanaryStore, FirestoreUnavailable

    if args.record and args.now is None:
        raise UsageError("--record only applies to a replay with --now (a run at the clock "
                         "always records)")
    if args.record and args.dry_run:
        raise UsageError("--record and --dry-run contradict each other")
    # DESIGN: a replay (--now) never opens or resolves real incidents unless asked to
    dry_run = bool(args.dry_run or (args.now is not None and not args.record))
    registry, settings = _canary_settings(args)

    def show(result: RunResult) -> int:
        if args.format == "json":
            sys.stdout.write(json.dumps(result.as_json(), indent=2, default=str) + "\n")
        else:
            sys.stdout.write(result.as_text())
        sys.stdout.flush()
        if result.exit_code == EXIT_FAILED and result.errors:
            more = len(result.errors) - 1
            print(f"phasegate: error: {result.errors[0]}"
                  + (f" (and {more} more)" if more else ""), file=sys.stderr)
        return result.exit_code

    try:
        client = _firestore(args.project)
    except FirestoreUnavailable as error:
        return show(report_failure(settings, args.now or dt.datetime.now(dt.UTC),
                                   f"the canary could not reach Firestore: {error}",
                                   stream=sys.stderr, dry_run=dry_run))
    store = CanaryStore(client, pipeline=registry.pipeline)
    looping = not (args.once or args.now is not None)
    while True:
        now = args.now or dt.datetime.now(dt.UTC)
        problems, interval = [], None
        if looping:
            try:
                interval = interval_minutes(settings)
            except ValueError as error:
                problems.append(f"{error}: `canary run` without --once cannot keep a "
                                "schedule, so this run is its last (run it from cron with "
                                "--once, or fix the schedule)")
        result = run_once(store, settings, now, dry_run=dry_run, stream=sys.stderr,
                          problems=problems)
        code = show(result)
        if interval is None:
            return code
        time.sleep(60 * interval)


def _canary_heartbeat(args: argparse.Namespace) -> int:
    import datetime as dt

    from phasegate.canary.evaluate import as_time
    from phasegate.canary.run import EXIT_FAILED, one_line, report_failure
    from phasegate.canary.store import CanaryStore, FirestoreUnavailable

    loaded = _load(args)
    if loaded.registry is None:
        raise UsageError(f"{loaded.path} has errors; run `phasegate validate`")
    now = args.now or dt.datetime.now(dt.UTC)
    try:
        beat = CanaryStore(_firestore(args.project), timeout=15,
                           pipeline=loaded.registry.pipeline).read_heartbeat()
    except Exception as error:  # noqa: BLE001 - unreadable is its own exit code
        reason = str(error) if isinstance(error, FirestoreUnavailable) else one_line(error)
        message = f"cannot read the canary heartbeat: {reason}"
        try:  # the watchdog is blind: say so where the canary's alerts go
            _, settings = _canary_settings(args)
        except UsageError:
            pass
        else:
            report_failure(settings, now, message, stream=sys.stderr)
        print(f"phasegate: error: {message}", file=sys.stderr)
        return EXIT_FAILED
    if beat is None:
        print("phasegate: the canary has never recorded a heartbeat", file=sys.stderr)
        return EXIT_FINDINGS
    at = as_time(beat.get("at"))
    if at is None:
        print("phasegate: the canary's heartbeat record is malformed (no time)",
              file=sys.stderr)
        return EXIT_FINDINGS
    age = now - at
    print(f"last canary run {at.isoformat()} ({age} ago), outcome "
          f"{str(beat.get('outcome'))[:40]}")
    if age > args.max_age:
        print(f"phasegate: the canary's last run is older than {args.max_age}",
              file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _explain(args: argparse.Namespace) -> int:
    import datetime as dt

    from phasegate.canary.explain import explain
    from phasegate.canary.run import EXIT_FAILED, one_line
    from phasegate.canary.store import CanaryStore, FirestoreUnavailable

    registry, settings = _canary_settings(args)
    try:
        dt.date.fromisoformat(args.run_key)
    except ValueError as error:
        raise UsageError(f"RUN_KEY {args.run_key!r} is not a date (YYYY-MM-DD)") from error
    transitions = settings.expectations["transitions"]
    if args.transition not in transitions:
        raise UsageError(f"unknown transition {args.transition!r}; the registry has: "
                         f"{', '.join(sorted(transitions))}")
    now = args.now or dt.datetime.now(dt.UTC)
    try:
        store = CanaryStore(_firestore(args.project), timeout=15, pipeline=registry.pipeline)
        text = explain(store, settings, args.transition, args.run_key, now)
    except FirestoreUnavailable as error:
        print(f"phasegate: error: cannot read Firestore: {error}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001
        print(f"phasegate: error: cannot read Firestore: {one_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.write(text)
    return EXIT_CLEAN


def _test(args: argparse.Namespace) -> int:
    import contextlib
    import tempfile

    from phasegate.scenario import report
    from phasegate.scenario.spec import ScenarioError, load_scenario

    files: list[Path] = []
    for path in args.paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such scenario file or directory")
    if not files:
        raise UsageError("no scenario files found")
    try:
        scenarios = [load_scenario(path) for path in files]
    except ScenarioError as error:
        print(f"{error}", file=sys.stderr)
        return EXIT_USAGE
    with contextlib.ExitStack() as stack:
        if not (os.environ.get("FIRESTORE_EMULATOR_HOST")
                and os.environ.get("PUBSUB_EMULATOR_HOST")):
            from phasegate.scenario.emulators import Emulator, sdk_problem, sdk_root

            problem = sdk_problem()
            if problem:
                raise UsageError(f"scenarios need the emulators: {problem}")
            sdk = sdk_root()
            assert sdk is not None
            logs = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            for kind, variable in (("firestore", "FIRESTORE_EMULATOR_HOST"),
                                   ("pubsub", "PUBSUB_EMULATOR_HOST")):
                emulator = Emulator(kind, sdk).start(logs)
                stack.callback(emulator.stop)
                os.environ[variable] = emulator.host
        from phasegate.scenario.runner import run_scenario

        try:
            results = [run_scenario(scenario) for scenario in scenarios]
        except ScenarioError as error:
            print(f"{error}", file=sys.stderr)
            return EXIT_USAGE
    render = report.as_json if args.format == "json" else report.text
    sys.stdout.write(render(results))
    if args.junit:
        args.junit.write_text(report.junit(results), encoding="utf-8")
    return EXIT_CLEAN if all(r.passed for r in results) else EXIT_FINDINGS


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
