"""The ``phasegate`` command line: it parses and dispatches, nothing else.

Each command is a typed function in its own package (``validator.command``,
``generation``, ``scaffold``, ``deploy.commands``, ``canary.commands``,
``scenario.command``), imported only when it runs, so ``phasegate validate``
never pays for Google Cloud libraries (a test holds it to that).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from phasegate.usage import UsageError

if TYPE_CHECKING:
    from phasegate.registry.loading import LoadedRegistry

EXIT_USAGE = 2
FORMATS = ("text", "json", "github", "sarif")

EXIT_CODES_HELP = """\
exit codes:
  0  clean (warnings allowed unless --strict)
  1  findings at error level (or warnings with --strict)
  2  usage error, unreadable input or internal failure
"""


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
    from phasegate import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
  2  DIR is not a directory, --prefix or a --from-code path leaves DIR, or a path
     resolves outside DIR
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    init.add_argument("directory", metavar="DIR", nargs="?", type=Path, default=Path("."),
                      help="the repository to scaffold (default: .; created when missing)")
    init.add_argument("--pipeline", metavar="NAME",
                      help="the pipeline's name (default: DIR's folder name)")
    init.add_argument("--prefix", metavar="PATH",
                      help="put the four folders under PATH (relative to DIR) when the "
                           "top-level names are taken")
    init.add_argument("--from-code", metavar="PATH", nargs="+", action="extend",
                      help="propose the registry from the code under these paths (inside "
                           "DIR, relative to it): processor and scraper classes, names in "
                           "config files and calls, Firestore collections; every proposal is "
                           "marked '# review:'")
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
    validate.add_argument(
        "--baseline", metavar="FILE", type=Path,
        help="fail only on findings not in this baseline (adopting phasegate in a repository "
             "that already drifted); only findings in code and referenced files (PG202-PG209) "
             "can be baselined, never the registry's own; read only when given",
    )
    validate.add_argument(
        "--update-baseline", action="store_true",
        help="write the current code and file findings to the --baseline FILE",
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

    status = commands.add_parser(
        "status", help="transitions x run keys, each cell its canary state, at a glance",
        description=(
            "Evaluate every transition for the last N days through tomorrow with the canary's "
            "own evaluation (one batched Firestore read; nothing is sent or stored) and show "
            "a grid: each cell the state, with the firing time or the missing count. text "
            "uses colour only on a terminal and symbols with a legend everywhere; json is "
            "for tools; html is one self-contained page (no external assets, no script)."),
        epilog="""\
exit codes:
  0  nothing is alerting
  1  at least one cell is alerting (LATE, STUCK, MISSING_RUN, UNREADABLE, ...)
  2  usage error or unreadable registry
  3  Firestore cannot be read (no credentials, unreachable); --format html still writes a
     page that says so
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    _registry_options(status)
    status.add_argument("--days", type=_days, default=7,
                        help="run keys from today - DAYS through tomorrow (default 7)")
    status.add_argument("--format", choices=("text", "json", "html"), default="text")
    status.add_argument("--now", metavar="ISO-8601", type=_moment,
                        help="evaluate as if at this moment (default: the clock)")
    status.add_argument("--project", help="Google Cloud project (default: "
                                          "$GOOGLE_CLOUD_PROJECT)")
    status.set_defaults(run=_status)

    history = commands.add_parser(
        "history", help="firing latency, days late and stuck, incidents and their detection time",
        description=(
            "Per transition over the last N run keys through today: firing latency (first "
            "expected completion -> firing: p50, p90, max), days late and days stuck (run keys "
            "with a LATE or STUCK incident), incidents and their detection time (detectable "
            "-> alerted). Reads the BigQuery mirror when the registry has mirror.bigquery, "
            "else the Firestore documents and the canary's incidents. Nothing is written."),
        epilog="""\
exit codes:
  0  reported
  2  usage error or unreadable registry
  3  the store cannot be read (BigQuery or Firestore: no credentials, unreachable)
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    _registry_options(history)
    history.add_argument("--days", type=_days, default=30,
                         help="run keys from today - DAYS + 1 through today (default 30)")
    history.add_argument("--format", choices=("text", "json"), default="text")
    history.add_argument("--now", metavar="ISO-8601", type=_moment,
                         help="as if at this moment (default: the clock)")
    history.add_argument("--project", help="Google Cloud project for Firestore (default: "
                                           "$GOOGLE_CLOUD_PROJECT)")
    history.set_defaults(run=_history)

    graph = commands.add_parser(
        "graph", help="the registry as a picture: scrapers -> processors -> transitions",
        description=(
            "Draw the registry: scrapers feed processors, processors of a phase feed its "
            "transition, a transition starts the next phase. Disabled ones are greyed with "
            "their reason, season-level processors are marked, each transition shows its "
            "expected set. mermaid renders on GitHub; dot is for Graphviz; svg is drawn by "
            "phasegate itself (no system dependency). Reads only the registry."),
        epilog="""\
exit codes:
  0  written to stdout
  2  usage error or unreadable registry
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    _registry_options(graph)
    graph.add_argument("--format", choices=("mermaid", "dot", "svg"), default="mermaid")
    graph.set_defaults(run=_graph)

    fire = commands.add_parser(
        "fire", help="fire a transition for a run key by hand, exactly once",
        description="Fire TRANSITION for RUN_KEY now, whatever is complete, through the "
                    "orchestrator's own exactly-once path: reason `manual` with your note on "
                    "the document and the marker, the same trigger_id a delivery would send. "
                    "Refused when the run key has already fired. For an HTTP target, the URL "
                    "(and audience) variables the registry names must be set here too.",
        epilog="""\
exit codes:
  0  fired
  1  refused: the run key has already fired (or another attempt is firing it now), or
     the target sends one message per completed processor and none has completed
  2  usage error or unreadable registry
  3  not fired: Firestore cannot be reached, or the target failed (the firing stays
     pending and a delivery or the next canary run retries it with the same trigger_id)
""", formatter_class=argparse.RawDescriptionHelpFormatter)
    fire.add_argument("transition")
    fire.add_argument("run_key", metavar="RUN_KEY")
    fire.add_argument("--reason", required=True, metavar="TEXT",
                      help="why it is fired by hand (kept on the document as _trigger_note)")
    _registry_options(fire)
    fire.add_argument("--project", help="Google Cloud project")
    fire.set_defaults(run=_fire)

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


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 0 <= days <= 366:
        raise argparse.ArgumentTypeError(f"{days} is outside 0 to 366 days")
    return days


def _duration(text: str) -> object:
    from phasegate.runtime import parse_duration

    duration = parse_duration(text.strip())
    if duration is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 45m, 2h or 1h30m")
    return duration


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


def _loaded(args: argparse.Namespace) -> LoadedRegistry:
    from phasegate.registry.locate import load_for_command

    return load_for_command(args.registry, args.root, os.environ)


def _validate(args: argparse.Namespace) -> int:
    from phasegate.validator.command import validate_command

    return validate_command(_loaded(args), args.root, output_format=args.format,
                            strict=args.strict, out=sys.stdout, err=sys.stderr,
                            baseline=args.baseline, update_baseline=args.update_baseline)


def _generate(args: argparse.Namespace) -> int:
    from phasegate.generation import generate
    from phasegate.registry.locate import checked_path

    path, shown = checked_path(args.registry, args.root, os.environ)
    return generate(path, args.root, check=args.check, out=sys.stdout, err=sys.stderr,
                    shown=shown)


def _init(args: argparse.Namespace) -> int:
    from phasegate.scaffold import init_command

    return init_command(args.directory, pipeline=args.pipeline, prefix=args.prefix,
                        out=sys.stdout, err=sys.stderr, from_code=args.from_code)


def _deploy_plan(args: argparse.Namespace) -> int:
    from phasegate.deploy.commands import plan_loaded_command

    # only the script reaches stdout (`deploy plan | bash`); findings go to stderr
    return plan_loaded_command(_loaded(args), args.root, project=args.project,
                               region=args.region, check=args.check, out=sys.stdout,
                               err=sys.stderr)


def _deploy_build(args: argparse.Namespace) -> int:
    from phasegate.deploy.commands import build_command
    from phasegate.registry.locate import checked_path

    path, _ = checked_path(args.registry, args.root, os.environ)
    return build_command(args.root, path, args.directory, err=sys.stderr)


def _canary_run(args: argparse.Namespace) -> int:
    from phasegate.canary.commands import run_command

    return run_command(_loaded(args), args.root, project=args.project, now=args.now,
                       record=args.record, dry_run=args.dry_run, once=args.once,
                       output_format=args.format, out=sys.stdout, err=sys.stderr)


def _canary_heartbeat(args: argparse.Namespace) -> int:
    from phasegate.canary.commands import heartbeat_command

    return heartbeat_command(_loaded(args), args.root, project=args.project, now=args.now,
                             max_age=args.max_age, out=sys.stdout, err=sys.stderr)


def _explain(args: argparse.Namespace) -> int:
    from phasegate.canary.commands import explain_command

    return explain_command(_loaded(args), args.root, transition=args.transition,
                           run_key=args.run_key, project=args.project, now=args.now,
                           out=sys.stdout, err=sys.stderr)


def _status(args: argparse.Namespace) -> int:
    from phasegate.status.command import status_command

    return status_command(_loaded(args), args.root, project=args.project, days=args.days,
                          now=args.now, output_format=args.format, out=sys.stdout,
                          err=sys.stderr)


def _history(args: argparse.Namespace) -> int:
    from phasegate.history.command import history_command

    return history_command(_loaded(args), args.root, days=args.days, output_format=args.format,
                           now=args.now, project=args.project, out=sys.stdout, err=sys.stderr)


def _graph(args: argparse.Namespace) -> int:
    from phasegate.graph.command import graph_command

    return graph_command(_loaded(args), output_format=args.format, out=sys.stdout)


def _fire(args: argparse.Namespace) -> int:
    from phasegate.orchestrator.commands import fire_command

    return fire_command(_loaded(args), args.root, transition=args.transition,
                        run_key=args.run_key, reason=args.reason, project=args.project,
                        out=sys.stdout, err=sys.stderr)


def _test(args: argparse.Namespace) -> int:
    from phasegate.scenario.command import test_command

    return test_command(args.paths, junit=args.junit, output_format=args.format,
                        out=sys.stdout, err=sys.stderr)


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
