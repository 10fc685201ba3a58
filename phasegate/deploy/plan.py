"""``phasegate deploy plan``: the gcloud commands that deploy a registry, in order: pure.

The plan owns every piece (APIs, identities, topics (trigger targets' too), functions
(with the URL variables of HTTP targets, from the deployer's shell), the push
subscriptions with their dead-letter topic, the ``run.invoker`` binding, the
canary with its schedule, metric and alert policy), so nothing is left to a
console default: a deploy that once dropped the invoker binding cost the real
pipeline 7 days of silence. Creates are guarded by a ``describe`` so the
script can run again after every change; what can drift is updated. What the
plan creates carries the pipeline's label, so a later plan finds what it no
longer creates (a renamed or removed transition's push subscription) and
retires it; a subscription bound to another topic is recreated.

:func:`plan_commands` gives the steps as data (for the offline check);
:func:`render_plan` prints them as bash and doubles as a ``generate`` renderer.
"""

from __future__ import annotations

import json
from typing import Any

from phasegate import __version__
from phasegate.deploy.names import (
    PIPELINE_LABEL,
    PROJECT_NUMBER_VARIABLE,
    PROJECT_VARIABLE,
    PUBSUB_AGENT,
    REGION_VARIABLE,
    ROLE_LABEL,
    Account,
    Emitted,
    Function,
    Names,
    PlanError,
    deploy_names,
    scheduler_job_id,
    validate_names,
)
from phasegate.deploy.steps import Argv, PlanStep, render_step, variables_of
from phasegate.registry.generate import (
    DO_NOT_EDIT,
    NO_INPUTS,
    Inputs,
    render_canary_monitoring,
    render_scheduler,
)
from phasegate.registry.models import HttpTarget, Registry
from phasegate.registry.semantics import digest
from phasegate.runtime import printable

DEFAULT_REGISTRY = "registry/processors.yaml"
BUILD_DIR = "build"  # what `phasegate deploy build build` writes and the plan deploys
RUNTIME = "python311"
MEMORY = "256Mi"
ORCHESTRATOR_TIMEOUT_S = 60
ACK_DEADLINE_S = 2 * ORCHESTRATOR_TIMEOUT_S  # above the timeout: no redelivery mid-run
CANARY_TIMEOUT_S = 240  # inside the Scheduler job's attempt deadline (300s)
ALERT_POLICY_FILE = f"{BUILD_DIR}/canary-alert-policy.json"
EXISTING_POLICY_VARIABLE = "EXISTING_ALERT_POLICY"
LABELLED_SUBSCRIPTIONS, STALE_SUBSCRIPTION = "PIPELINE_SUBSCRIPTIONS", "STALE_SUBSCRIPTION"
LABELLED_FUNCTIONS, STALE_FUNCTION = "PIPELINE_FUNCTIONS", "STALE_FUNCTION"
PUSH_ROLE = "push"
SERVICES = (
    "cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com", "pubsub.googleapis.com", "firestore.googleapis.com",
    "cloudscheduler.googleapis.com", "logging.googleapis.com", "monitoring.googleapis.com",
    "iam.googleapis.com", "secretmanager.googleapis.com",
)
# Set by the plan on every orchestrator, or by the platform: a target's variable must differ.
FUNCTION_ENV = ("PHASEGATE_TRANSITION", "PHASEGATE_REGISTRY_DIGEST", "GOOGLE_CLOUD_PROJECT")
PLATFORM_ENV = frozenset({"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION",
                          "FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE"})
# Always set in the deployer's shell: the guard would pass and send the wrong value.
SHELL_ENV = frozenset({"PATH", "HOME", "PWD", "OLDPWD", "SHELL", "USER", "LOGNAME", "IFS",
                       "TERM", "LANG", "HOSTNAME", "UID", "EUID", "PPID", "RANDOM", "SECONDS",
                       "LINENO", "SHLVL", "OPTIND", "OPTARG", "REPLY", "TMPDIR"})


def render_plan(registry: Registry, source: str, inputs: Inputs = NO_INPUTS, *,
                project: str | None = None, region: str | None = None) -> str:
    """The plan as a bash script; ``project``/``region`` default to ``registry.deploy``."""
    names = deploy_names(registry, project, region)
    steps = plan_commands(registry, source, inputs, project=project, region=region)
    variables = variables_of(steps, (*names.needs, *target_variables(registry)))
    unchecked = [step.description.splitlines()[0] for step in steps if not step.gcloud]
    lines = [
        "#!/usr/bin/env bash",
        f"# Generated from {printable(source)} by phasegate {__version__}; {DO_NOT_EDIT}.",
        f"# Registry digest: {digest(registry)}",
        "#",
        f"# Deploys the phasegate functions of the {registry.pipeline!r} pipeline to Google Cloud.",
        "# Run it from the repository root, again after every change: creates are guarded and",
        "# what can drift is updated; push subscriptions of this pipeline that the registry no",
        "# longer has are deleted, and its functions no longer deployed are printed for you to",
        "# delete. `phasegate deploy plan --check` runs every gcloud command below through the",
        "# installed gcloud's own parser, offline. Not gcloud (not checked):",
        *[f"#   - {description}" for description in unchecked],
        "set -euo pipefail",
        "",
    ]
    for variable in names.needs:
        lines.append(f': "${{{variable}:?set {variable}}}"')
    if names.needs:
        lines.append("")
    lines.extend(_target_guards(registry))
    for step in steps:
        lines.extend(render_step(step, variables))
        lines.append("")
    return "\n".join(lines)


def plan_commands(registry: Registry, source: str, inputs: Inputs = NO_INPUTS, *,
                  project: str | None = None, region: str | None = None) -> list[PlanStep]:
    """Every step of the plan, in order, as data.

    Raises :class:`~phasegate.deploy.names.InvalidNames` when a name the plan
    would pass to Google Cloud is one it rejects (gcloud's parser does not know).
    """
    names = deploy_names(registry, project, region)
    scheduler = json.loads(render_scheduler(registry, source, inputs))
    monitoring = json.loads(render_canary_monitoring(registry, source, inputs))
    validate_names([*names.emitted(), *_rendered_names(registry, scheduler, monitoring)])
    steps = [
        _build_step(source),
        *_project_steps(names),
        *_topic_steps(registry, names),
        *_orchestrator_steps(registry, names),
        *_retire_steps(names),
        *_canary_steps(registry, names, scheduler),
        *_monitoring_steps(names, monitoring),
        *_mirror_steps(registry, source, names),
    ]
    _check_target_variables(registry, variables_of(steps, (PROJECT_VARIABLE, REGION_VARIABLE)))
    return steps


def _http_targets(registry: Registry) -> dict[str, HttpTarget]:
    """The transitions that fire over HTTP, with their target (as generated: action trigger)."""
    found: dict[str, HttpTarget] = {}
    for name, transition in registry.transitions.items():
        target = transition.effective_target()
        if transition.action == "trigger" and target is not None and target.http is not None:
            found[name] = target.http
    return found


def target_variables(registry: Registry) -> dict[str, str]:
    """The shell variables the plan passes to orchestrators for HTTP targets, and what each is.

    The URL and the audience stay out of the registry and the script: the
    deployer's shell holds them, and the plan stops at once when one is unset.
    """
    found: dict[str, str] = {}
    for http in _http_targets(registry).values():
        found.setdefault(http.url_env, "the target URL")
        if http.audience_env is not None:
            found.setdefault(http.audience_env, "the audience of the ID token for the target")
    return found


def _target_guards(registry: Registry) -> list[str]:
    """Stop before deploying anything when a target's variable is unset or would be split."""
    lines: list[str] = []
    for variable, what in target_variables(registry).items():
        lines += [
            f': "${{{variable}:?set {variable} to {what}}}"',
            f'case "${{{variable}}}" in *,*) echo "phasegate: {variable} holds a comma, which '
            f'gcloud --set-env-vars would split; use a value without one" >&2; exit 1;; esac',
        ]
    return [*lines, ""] if lines else []


def _check_target_variables(registry: Registry, plan_variables: frozenset[str]) -> None:
    """A target's variable must not be one the plan, the function or the shell already sets."""
    taken = plan_variables | PLATFORM_ENV | SHELL_ENV | set(FUNCTION_ENV)
    clashes = sorted({name for name in target_variables(registry)
                      if name in taken or name.startswith(("BASH", "X_GOOGLE_"))})
    if clashes:
        raise PlanError(
            f"target url_env/audience_env {', '.join(clashes)} is a variable the plan, the "
            "function's platform or the shell sets itself; name another variable")


def _rendered_names(registry: Registry, job: dict[str, Any],
                    monitoring: dict[str, Any]) -> list[Emitted]:
    """The names the plan takes from the registry and the rendered resources."""
    pipeline = f"pipeline {registry.pipeline!r}"
    return [
        *(Emitted("topic", topic, "a transition's trigger_topic or target.pubsub.topic")
          for topic in _trigger_topics(registry)),
        *(Emitted("secret", secret, "canary.notify url_env") for secret in _secret_names(registry)),
        Emitted("scheduler_job", scheduler_job_id(str(job["name"])),
                f"{pipeline} (the Cloud Scheduler job rendered by render_scheduler)"),
        Emitted("scheduler_description", str(job["description"]),
                f"{pipeline} (the Cloud Scheduler job rendered by render_scheduler)"),
        Emitted("log_metric", str(monitoring["log_metric"]["name"]),
                f"{pipeline} (the heartbeat metric rendered by render_canary_monitoring)"),
        Emitted("alert_display_name", str(monitoring["alert_policy"]["displayName"]),
                f"{pipeline} (the alert policy rendered by render_canary_monitoring)"),
    ]


def _gcloud(names: Names, *argv: str) -> Argv:
    return ("gcloud", *argv, f"--project={names.project}")


def _member(email: str) -> str:
    return f"--member=serviceAccount:{email}"


def _build_step(source: str) -> PlanStep:
    registry = () if source == DEFAULT_REGISTRY else (f"--registry={source}",)
    return PlanStep(
        f"Self-contained function sources in {BUILD_DIR}/: the deployable folders with "
        "phasegate's runtime vendored (not gcloud)",
        ("phasegate", "deploy", "build", *registry, BUILD_DIR), gcloud=False)


def _project_steps(names: Names) -> list[PlanStep]:
    fn, push = names.function_account, names.push_account
    steps = [
        PlanStep("Enable the APIs the plan uses",
                 _gcloud(names, "services", "enable", *SERVICES)),
        PlanStep("The project number names the Pub/Sub service agent",
                 _gcloud(names, "projects", "describe", names.project,
                         "--format=value(projectNumber)"),
                 capture=PROJECT_NUMBER_VARIABLE),
        PlanStep("Firestore (default database, native mode): where completions are recorded",
                 _gcloud(names, "firestore", "databases", "create",
                         f"--location={names.region}", "--type=firestore-native"),
                 unless=_gcloud(names, "firestore", "databases", "describe",
                                "--database=(default)")),
        *(PlanStep(f"Expire {group} documents (their expire_at field): {why}",
                   _gcloud(names, "firestore", "fields", "ttls", "update", "expire_at",
                           f"--collection-group={group}", "--enable-ttl", "--async"))
          for group, why in (("phasegate_deliveries", "per-message markers, kept 7 days"),
                             ("phasegate_rejected", "rejected messages, kept 30 days"))),
        *(_account_step(names, account) for account in (fn, push)),
        PlanStep(f"The functions' identity reads and writes Firestore ({fn.email})",
                 _gcloud(names, "projects", "add-iam-policy-binding", names.project,
                         _member(fn.email), "--role=roles/datastore.user", "--condition=None",
                         "--format=none")),
        PlanStep("Pub/Sub may mint tokens for the push identity (authenticated push)",
                 _gcloud(names, "iam", "service-accounts", "add-iam-policy-binding", push.email,
                         _member(PUBSUB_AGENT), "--role=roles/iam.serviceAccountTokenCreator",
                         "--format=none")),
    ]
    return steps


def _account_step(names: Names, account: Account) -> PlanStep:
    describe = _gcloud(names, "iam", "service-accounts", "describe", account.email)
    if account.account_id is None:
        return PlanStep(f"Service account {account.email} (not in this project) must exist",
                        describe, require=f"service account {account.email} does not exist")
    return PlanStep(f"Service account {account.email}: {account.display_name}",
                    _gcloud(names, "iam", "service-accounts", "create", account.account_id,
                            f"--display-name={account.display_name}"),
                    unless=describe)


def _trigger_topics(registry: Registry) -> list[str]:
    """The Pub/Sub topics transitions fire to, spelled as trigger_topic or as a target."""
    topics = [target.pubsub.topic for t in registry.transitions.values()
              if t.action == "trigger" and (target := t.effective_target()) is not None
              and target.pubsub is not None]
    return list(dict.fromkeys(topics))


def _topic_step(names: Names, topic: str, why: str) -> PlanStep:
    return PlanStep(f"Topic {topic}: {why}",
                    _gcloud(names, "pubsub", "topics", "create", topic),
                    unless=_gcloud(names, "pubsub", "topics", "describe", topic))


def _topic_steps(registry: Registry, names: Names) -> list[PlanStep]:
    dead, fn = names.dead_letter_topic, names.function_account
    steps = [
        _topic_step(names, names.completion_topic, "the processors publish completions here"),
        _topic_step(names, dead, "completions no function could take after every attempt"),
        PlanStep(f"Subscription {names.dead_letter_hold} keeps dead letters for 7 days "
                 "(a topic without a subscription drops them)",
                 _gcloud(names, "pubsub", "subscriptions", "create", names.dead_letter_hold,
                         f"--topic={dead}", "--message-retention-duration=7d",
                         "--expiration-period=never"),
                 unless=_gcloud(names, "pubsub", "subscriptions", "describe",
                                names.dead_letter_hold)),
        PlanStep("The Pub/Sub service agent may publish dead letters",
                 _gcloud(names, "pubsub", "topics", "add-iam-policy-binding", dead,
                         _member(PUBSUB_AGENT), "--role=roles/pubsub.publisher",
                         "--format=none")),
    ]
    for topic in _trigger_topics(registry):
        steps.append(_topic_step(names, topic, "a transition fires here (action: trigger)"))
        steps.append(PlanStep(f"The functions' identity may publish to {topic}",
                              _gcloud(names, "pubsub", "topics", "add-iam-policy-binding", topic,
                                      _member(fn.email), "--role=roles/pubsub.publisher",
                                      "--format=none")))
    return steps


def _labels(names: Names, role: str) -> str:
    return f"{PIPELINE_LABEL}={names.pipeline_label},{ROLE_LABEL}={role}"


def _deploy(names: Names, function: str, folder: str, entry_point: str, timeout_s: int,
            env: dict[str, str], role: str, *extra: str) -> Argv:
    variables = ",".join(f"{key}={value}" for key, value in env.items())
    return _gcloud(names, "functions", "deploy", function, "--gen2", f"--runtime={RUNTIME}",
                   f"--region={names.region}", f"--source={BUILD_DIR}/{folder}",
                   f"--entry-point={entry_point}", "--trigger-http",
                   "--no-allow-unauthenticated", "--ingress-settings=all",
                   f"--service-account={names.function_account.email}",
                   f"--set-env-vars={variables}", f"--timeout={timeout_s}s",
                   f"--memory={MEMORY}", f"--update-labels={_labels(names, role)}", *extra)


def _url_step(names: Names, function: str, variable: str) -> PlanStep:
    return PlanStep(f"The URL of {function}",
                    _gcloud(names, "functions", "describe", function, "--gen2",
                            f"--region={names.region}", "--format=value(serviceConfig.uri)"),
                    capture=variable)


def _invoker_step(names: Names, function: str, who: str) -> PlanStep:
    return PlanStep(f"{who} may invoke {function} (roles/run.invoker on its Cloud Run service)",
                    _gcloud(names, "functions", "add-invoker-policy-binding", function,
                            f"--region={names.region}", _member(names.push_account.email),
                            "--format=none"))


def _orchestrator_steps(registry: Registry, names: Names) -> list[PlanStep]:
    steps: list[PlanStep] = []
    registry_digest = digest(registry)
    push = names.push_account.email
    http_targets = _http_targets(registry)
    for transition, function in names.orchestrators.items():
        env = dict(zip(FUNCTION_ENV, (transition, registry_digest, names.project), strict=True))
        http = http_targets.get(transition)
        fires = ""
        if http is not None:  # from the deployer's shell, never written into the script
            env.update({name: f"${{{name}}}" for name in (http.url_env, http.audience_env)
                        if name is not None})
            fires = (f"; it fires by POSTing to ${{{http.url_env}}}"
                     + (f" with an ID token for ${{{http.audience_env}}}: the receiving service "
                        f"must let {names.function_account.email} invoke it"
                        if http.audience_env else ""))
        subscription = function.subscription or f"{function.name}-push"
        delivery = (f"--push-endpoint=${{{function.url_variable}}}",
                    f"--push-auth-service-account={push}", f"--ack-deadline={ACK_DEADLINE_S}",
                    f"--dead-letter-topic={names.dead_letter_topic}",
                    f"--max-delivery-attempts={registry.deploy.max_delivery_attempts}",
                    "--min-retry-delay=10s", "--max-retry-delay=600s",
                    "--expiration-period=never")
        steps += [
            PlanStep(f"Orchestrator for {transition}: private, HTTP, fed by a push "
                     f"subscription{fires}",
                     _deploy(names, function.name, "orchestrator", "on_push",
                             ORCHESTRATOR_TIMEOUT_S, env, "orchestrator")),
            _url_step(names, function.name, function.url_variable),
            _invoker_step(names, function.name, "The push identity"),
            *_topic_change_steps(names, function, subscription),
            PlanStep(f"Push subscription {subscription}: completions to {function.name}, "
                     f"dead letters after {registry.deploy.max_delivery_attempts} attempts",
                     _gcloud(names, "pubsub", "subscriptions", "create", subscription,
                             f"--topic={names.completion_topic}", *delivery,
                             f"--labels={_labels(names, PUSH_ROLE)}"),
                     unless=_gcloud(names, "pubsub", "subscriptions", "describe", subscription),
                     update=_gcloud(names, "pubsub", "subscriptions", "update", subscription,
                                    *delivery, f"--update-labels={_labels(names, PUSH_ROLE)}")),
            PlanStep(f"The Pub/Sub service agent may forward {subscription}'s dead letters",
                     _gcloud(names, "pubsub", "subscriptions", "add-iam-policy-binding",
                             subscription, _member(PUBSUB_AGENT),
                             "--role=roles/pubsub.subscriber", "--format=none")),
        ]
    return steps


def _topic_change_steps(names: Names, function: Function, subscription: str) -> list[PlanStep]:
    """Delete the subscription when it listens to another topic, so the next step creates it.

    A subscription's topic is fixed: ``subscriptions update`` cannot move it, so
    after ``deploy.completion_topic`` changes the update path would leave every
    orchestrator listening to the old topic, silently. Recreating loses only
    what was still undelivered on the old topic, which the processors no longer
    publish to.
    """
    variable = function.url_variable.removesuffix("_URL") + "_TOPIC"
    expected = f"projects/{names.project}/topics/{names.completion_topic}"
    return [
        PlanStep(f"The topic {subscription} listens to, if it exists",
                 _gcloud(names, "pubsub", "subscriptions", "describe", subscription,
                         "--format=value(topic)"),
                 capture=variable, capture_may_fail=True),
        PlanStep(f"Recreate {subscription} if it listens to another topic than "
                 f"{names.completion_topic} (a subscription's topic cannot be updated)",
                 _gcloud(names, "pubsub", "subscriptions", "delete", subscription),
                 when_differs=(variable, expected)),
    ]


def _retire_steps(names: Names) -> list[PlanStep]:
    """Retire what earlier plans of this pipeline created and this one no longer does.

    Found by the labels the plan puts on its functions and push subscriptions
    (``phasegate-pipeline``, ``phasegate-role``), matched exactly (an anchored
    regular expression: gcloud's ``=`` is case-insensitive and will match words).
    These steps run after every current subscription exists: an overlap of
    seconds in which both the old and the new orchestrator receive a completion
    is what any deploy has, while deleting first would lose the completions
    published in between for good.

    Stale push subscriptions are deleted: without them the old orchestrators
    (private, invocable only by the push identity) receive nothing, which is the
    whole fix, and a subscription holds no state worth keeping. Stale functions
    are only printed as a manual step: deleting a function cannot be undone, it
    does no harm once nothing feeds it, and someone may have pointed something
    else at it (an Eventarc trigger on ``on_completion``); a person decides.
    Resources deployed before the plan labelled them are not found.
    """
    pipeline = f"labels.{PIPELINE_LABEL}~^{names.pipeline_label}$"
    subscriptions = tuple(f.subscription for f in names.orchestrators.values() if f.subscription)
    functions = (*(f.name for f in names.orchestrators.values()), names.canary.name)
    return [
        PlanStep(f"The push subscriptions labelled as this pipeline's "
                 f"({PIPELINE_LABEL}={names.pipeline_label})",
                 _gcloud(names, "pubsub", "subscriptions", "list",
                         f"--filter={pipeline} AND labels.{ROLE_LABEL}~^{PUSH_ROLE}$",
                         "--format=value(name.basename())"),
                 capture=LABELLED_SUBSCRIPTIONS, capture_may_be_empty=True),
        PlanStep("Delete those this plan no longer creates (a transition renamed or removed): "
                 "their orchestrators then receive nothing",
                 _gcloud(names, "pubsub", "subscriptions", "delete", f"${{{STALE_SUBSCRIPTION}}}"),
                 for_each=(LABELLED_SUBSCRIPTIONS, STALE_SUBSCRIPTION), keep=subscriptions),
        PlanStep(f"The functions labelled as this pipeline's in {names.region}",
                 _gcloud(names, "functions", "list", "--v2", f"--regions={names.region}",
                         f"--filter={pipeline}", "--format=value(name.basename())"),
                 capture=LABELLED_FUNCTIONS, capture_may_be_empty=True),
        PlanStep("Functions this plan no longer deploys: printed as a manual step, not deleted "
                 "(nothing feeds them any more; deleting cannot be undone)",
                 _gcloud(names, "functions", "delete", f"${{{STALE_FUNCTION}}}", "--gen2",
                         f"--region={names.region}"),
                 for_each=(LABELLED_FUNCTIONS, STALE_FUNCTION), keep=functions,
                 manual=f"function ${{{STALE_FUNCTION}}} of the {names.pipeline_label} "
                        "pipeline is no longer in the registry and no subscription of the plan "
                        "feeds it; once nothing else uses it, delete it with"),
    ]


def _secret_names(registry: Registry) -> list[str]:
    return list(dict.fromkeys(n.url_env for n in registry.canary.notify if n.url_env))


def _canary_steps(registry: Registry, names: Names, job: dict[str, Any]) -> list[PlanStep]:
    canary, fn = names.canary, names.function_account
    steps: list[PlanStep] = []
    secrets = _secret_names(registry)
    for secret in secrets:
        steps += [
            PlanStep(f"Secret {secret} (the canary's notification URL) must exist",
                     _gcloud(names, "secrets", "describe", secret),
                     require=f"create the secret {secret} first: printf %s URL | gcloud secrets "
                             f"create {secret} --data-file=-"),
            PlanStep(f"The functions' identity may read the secret {secret}",
                     _gcloud(names, "secrets", "add-iam-policy-binding", secret,
                             _member(fn.email), "--role=roles/secretmanager.secretAccessor",
                             "--format=none")),
        ]
    secret_flag = (f"--set-secrets={','.join(f'{s}={s}:latest' for s in secrets)}"
                   if secrets else "--clear-secrets")
    env = {"PHASEGATE_REGISTRY_DIGEST": digest(registry), "GOOGLE_CLOUD_PROJECT": names.project}
    # the canary fires a tier that comes due with no new message: it reaches HTTP targets too
    for http in _http_targets(registry).values():
        env.update({name: f"${{{name}}}" for name in (http.url_env, http.audience_env)
                    if name is not None})
    target = job["httpTarget"]
    schedule = (f"--location={names.region}", f"--schedule={job['schedule']}",
                f"--time-zone={job['timeZone']}", f"--uri=${{{canary.url_variable}}}",
                f"--http-method={target['httpMethod']}",
                f"--oidc-service-account-email={names.push_account.email}",
                f"--attempt-deadline={job['attemptDeadline']}",
                f"--max-retry-attempts={job['retryConfig']['retryCount']}",
                f"--description={job['description']}")
    # the resource's name is the full path; gcloud wants the last part, the job id
    job_id = scheduler_job_id(str(job["name"]))
    steps += [
        PlanStep("The canary: private, HTTP, one run at a time",
                 _deploy(names, canary.name, "canary", "canary_http", CANARY_TIMEOUT_S, env,
                         "canary", secret_flag, "--max-instances=1")),
        _url_step(names, canary.name, canary.url_variable),
        _invoker_step(names, canary.name, "The scheduler identity"),
        PlanStep(f"Cloud Scheduler job {job_id}: runs the canary on {job['schedule']!r} "
                 f"({job['timeZone']})",
                 _gcloud(names, "scheduler", "jobs", "create", "http", job_id, *schedule),
                 unless=_gcloud(names, "scheduler", "jobs", "describe", job_id,
                                f"--location={names.region}"),
                 update=_gcloud(names, "scheduler", "jobs", "update", "http", job_id,
                                *schedule)),
    ]
    return steps


def _monitoring_steps(names: Names, monitoring: dict[str, Any]) -> list[PlanStep]:
    metric, policy = monitoring["log_metric"], monitoring["alert_policy"]
    fields = (f"--description={metric['description']}", f"--log-filter={metric['filter']}")
    display = str(policy["displayName"]).replace("\\", "\\\\").replace('"', '\\"')
    policy_text = json.dumps(policy, indent=2, sort_keys=True) + "\n"
    return [
        PlanStep(f"Log-based metric {metric['name']}: counts the canary's heartbeats",
                 _gcloud(names, "logging", "metrics", "create", metric["name"], *fields),
                 unless=_gcloud(names, "logging", "metrics", "describe", metric["name"]),
                 update=_gcloud(names, "logging", "metrics", "update", metric["name"],
                                *fields)),
        PlanStep(f"The alert policy as a file for gcloud ({ALERT_POLICY_FILE}; not gcloud)",
                 gcloud=False, writes=((ALERT_POLICY_FILE, policy_text),)),
        PlanStep("An alert policy with this display name, if one exists",
                 _gcloud(names, "alpha", "monitoring", "policies", "list",
                         f'--filter=displayName="{display}"', "--format=value(name)",
                         "--limit=1"),
                 capture=EXISTING_POLICY_VARIABLE, capture_may_be_empty=True),
        PlanStep("Alert when the canary stops writing heartbeats (gcloud alpha: the policies "
                 "commands have no GA track)",
                 _gcloud(names, "alpha", "monitoring", "policies", "create",
                         f"--policy-from-file={ALERT_POLICY_FILE}"),
                 when_empty=EXISTING_POLICY_VARIABLE,
                 update=_gcloud(names, "alpha", "monitoring", "policies", "update",
                                f"${{{EXISTING_POLICY_VARIABLE}}}",
                                f"--policy-from-file={ALERT_POLICY_FILE}")),
    ]


MIRROR_SCHEMA_PATH = ".phasegate/bigquery-schema.json"


def _mirror_steps(registry: Registry, source: str, names: Names) -> list[PlanStep]:
    """The BigQuery mirror: its API, the functions' right to insert, its dataset
    (``gcloud alpha bq``, checked) and table.

    ``gcloud alpha bq tables create`` takes no schema, so the table is created
    with ``bq mk`` from the schema this plan writes: printed as a step that is
    not gcloud, never checked, and skipped when the table exists.
    """
    import shlex

    if registry.mirror is None:
        return []
    from phasegate.mirror.rows import split_table
    from phasegate.registry.generate import render_bigquery_schema

    table = registry.mirror.bigquery.table
    project, dataset, name = split_table(table)
    bq_name = shlex.quote(f"{project}:{dataset}.{name}")
    fn = names.function_account
    return [
        PlanStep(f"BigQuery's API in {project} (the mirror's project)",
                 ("gcloud", "services", "enable", "bigquery.googleapis.com",
                  f"--project={project}")),
        PlanStep(f"The functions' identity inserts the mirror's rows ({fn.email})",
                 ("gcloud", "projects", "add-iam-policy-binding", project, _member(fn.email),
                  "--role=roles/bigquery.dataEditor", "--condition=None", "--format=none")),
        PlanStep(f"BigQuery dataset {dataset} for the mirror (mirror.bigquery.table)",
                 ("gcloud", "alpha", "bq", "datasets", "create", dataset,
                  "--description=phasegate mirror: completions, firings and incidents",
                  f"--project={project}"),
                 unless=("gcloud", "alpha", "bq", "datasets", "describe", dataset,
                         f"--project={project}")),
        PlanStep(f"BigQuery table {table} with the mirror's schema (bq mk: gcloud alpha bq "
                 "cannot set a schema; not checked)",
                 gcloud=False,
                 writes=((MIRROR_SCHEMA_PATH, render_bigquery_schema(registry, source)),),
                 shell=f"bq show --format=none {bq_name} >/dev/null 2>&1 || bq mk --table "
                       f"{bq_name} {MIRROR_SCHEMA_PATH}"),
    ]
