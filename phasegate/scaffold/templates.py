"""What ``phasegate init`` writes: plain text, filled in with :class:`string.Template`.

``$pipeline``, ``$prefix`` (``""`` or ``"PATH/"``), ``$version``,
``$registry_args`` and the hook and Action arguments built from them are the
placeholders; ``$$`` is a literal ``$``.
Everything here is a Python constant, so the wheel needs no package data.
"""

from __future__ import annotations

REGISTRY = """\
# yaml-language-server: $$schema=schema.json
#
# The $pipeline pipeline's registry: the single source of truth for which
# scrapers and processors exist, which are enabled, and what each phase
# transition waits for. `phasegate init` wrote it as a starting point: replace
# the example names with your pipeline's own.
#
#   phasegate validate     check it (pre-commit and CI run this too)
#   phasegate generate     rewrite the artifacts listed under `generate:`
#
# The format is strict: unknown fields and duplicate keys are errors, and
# booleans are true/false only (yes/no/on/off are rejected as ambiguous).
# schema.json beside this file lets an editor check it as you type.
version: 1                    # the registry format; always 1
pipeline: $pipeline_yaml
timezone: UTC                 # IANA zone of run keys (e.g. dates) and of "today"

# Data sources at the head of the pipeline. Disabling one takes every
# processor that needs it out of every expected set.
scrapers:
  source_api:
    enabled: true
  legacy_feed:
    enabled: false
    disabled_reason: the provider retired this feed   # shown in alerts; PG109 warns without one
    # disabled_on: 2026-01-31                         # optional

# Processors report completion, under their name or an alias, to the
# orchestrator of the transition that leaves their phase.
processors:
  # phase 2: raw processors, one per scraper output
  p2_source_events:
    phase: 2
    inputs: [source_api]                  # scrapers or processors it needs; all must be enabled
    aliases: [SourceEventsProcessor]      # other names it reports under (class or table names)
    # enabled: true                       # default
    # per_run_key: true                   # default: reports once per run key
  p2_source_details:
    phase: 2
    inputs: [source_api]
    aliases: [SourceDetailsProcessor]
  p2_source_calendar:
    phase: 2
    per_run_key: false                    # season-level: never reports per run key, never expected
    inputs: [source_api]
    aliases: [SourceCalendarProcessor]
  p2_legacy_feed:
    phase: 2
    enabled: false                        # an enabled processor cannot need a disabled input
    disabled_reason: input scraper retired
    inputs: [legacy_feed]
    aliases: [LegacyFeedProcessor]

  # phase 3: analytics, built from phase 2's output
  event_summary:
    phase: 3
    inputs: [p2_source_events, p2_source_details]
    aliases: [EventSummaryProcessor]
  event_context:
    phase: 3
    inputs: [p2_source_details, p2_source_calendar]
    aliases: [EventContextProcessor]

# Gates between phases: which processors must finish, per run key, first.
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion         # Firestore collection: one document per run key
    action: monitor                       # monitor: record and alert only; trigger: also fire
    expects: all                          # every enabled per-run-key processor of from_phase,
                                          # or an explicit list such as [p2_source_events]
    # required: [p2_source_events]        # optional; default: everything expected
    deadline_minutes: 240                 # after the first expected completion: missing -> LATE
    grace_minutes: 30                     # everything complete but not fired by then -> STUCK
  # A transition that starts the next phase once everything expected completed:
  # phase3_to_phase4:
  #   from_phase: 3
  #   to_phase: 4
  #   collection: phase3_completion
  #   action: trigger
  #   trigger_topic: $pipeline-phase4-trigger   # the Pub/Sub topic the orchestrator publishes to
  #   expects: all
  #   deadline_minutes: 240
  #   grace_minutes: 30

# The canary runs on a schedule, reads the transitions' documents and alerts
# when one is stuck or late, naming the missing processors.
canary:
  schedule: "*/15 * * * *"                # cron; the generated Cloud Scheduler job runs it so
  lookback_days: 3                        # run keys checked: today and this many days back
  renotify_hours: 6                       # repeat an alert that is still open this often at most
  # early:                                # LATE before the deadline when the evidence is there:
  #   silent_run_keys: 2                  #   missing from 2 run keys in a row, the rest complete
  #   learn_days: 14                      #   or later than its latest time in 14 days + slack
  #   min_samples: 5                      #   (defaults shown; 0 turns a rule off)
  #   slack_minutes: 30
  notify:
    - log: {}                             # structured log lines; needs no configuration
    # - slack: {url_env: SLACK_WEBHOOK_URL}   # secrets come from the environment, never from here

# Where else names live (Python sources, config files); `phasegate validate`
# checks those too:
# references:
#   code: [src]

# What `phasegate deploy plan` needs beyond its flags; every field is optional:
# deploy:
#   project: my-project                   # or --project
#   region: us-central1                   # or --region
#   completion_topic: $pipeline-completions   # the default
#   max_delivery_attempts: 10

# Deploy-time artifacts, written by `phasegate generate`; `phasegate generate
# --check` fails in CI when one is stale. Never edit them by hand.
generate:
  - {path: ${prefix}orchestrator/expected_processors.py, format: python}
  - {path: ${prefix}orchestrator/requirements.txt, format: requirements}
  - {path: ${prefix}canary/expected.json, format: json}
  - {path: ${prefix}canary/requirements.txt, format: requirements}
  - {path: ${prefix}deploy/plan.sh, format: deploy-plan}
  - {path: ${prefix}deploy/canary-scheduler.json, format: cloud-scheduler}
  - {path: ${prefix}deploy/canary-monitoring.json, format: canary-monitoring}
"""

ORCHESTRATOR_MAIN = '''\
"""This pipeline's orchestrator: Cloud Function entry points bound to the generated expectations.

One deployment serves one transition, named by PHASEGATE_TRANSITION: `phasegate deploy plan`
sets it; set it yourself to run this locally with functions-framework.
"""
from pathlib import Path

from phasegate.orchestrator import function_handlers

on_completion, on_push = function_handlers(Path(__file__).with_name("expected_processors.py"))
'''

CANARY_MAIN = '''\
"""This pipeline's canary: the Cloud Scheduler entry point bound to the generated expectations."""
from pathlib import Path

from phasegate.canary import function_handler

canary_http = function_handler(Path(__file__).with_name("expected.json"))
'''

VALIDATOR_README = """\
# validator

This folder holds the phasegate validator's CI face for the $pipeline pipeline:
its baseline file, `${prefix}validator/baseline.json`, once you adopt phasegate
in a repository that has already drifted
(`phasegate validate$registry_args --baseline ${prefix}validator/baseline.json --update-baseline`).

To run the validator in GitHub Actions with the published Action:

```yaml
steps:
  - uses: actions/checkout@v4
  - uses: phasegate/phasegate/validator@v0$action_with
```

The Action takes no baseline: once `${prefix}validator/baseline.json` records
findings, use the workflow `phasegate init` wrote
(`.github/workflows/phasegate.yml`), which passes it.
"""

PRE_COMMIT_ENTRY = """\
  - repo: https://github.com/phasegate/phasegate
    rev: v$version
    hooks:
      - id: phasegate-validate
        args: [$validate_hook_args]
      - id: phasegate-generate-check$hook_args
"""

PRE_COMMIT = """\
# Validate the phasegate registry and check its generated artifacts before
# each commit (`pip install pre-commit && pre-commit install`, once per clone).
repos:
$entry"""

WORKFLOW_STEPS = """\
      - name: Validate the phasegate registry
        run: >-
          phasegate validate --format github$registry_args
          --baseline ${prefix}validator/baseline.json
      - name: Generated artifacts are current
        run: phasegate generate --check$registry_args
"""

WORKFLOW = """\
# The phasegate registry is valid and the artifacts generated from it are current.
name: phasegate

on:
  push:
  pull_request:

permissions:
  contents: read

jobs:
  phasegate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install phasegate
        # the release this repository was scaffolded with (the tag the pre-commit hook uses too)
        run: pip install "phasegate @ git+https://github.com/phasegate/phasegate@v$version"
$steps"""
