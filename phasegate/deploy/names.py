"""Names of everything the plan creates, derived from the registry: pure and deterministic.

Every name is computed here once, so the plan, the check and the tests agree;
a registry's names never reach gcloud in a form Google Cloud would reject
(a pipeline may be called "NBA stats", a transition ``Phase2_to_3``), and two
transitions never share a function, even when their names differ only in case.

gcloud's parser accepts any string as a resource id, so a name Google Cloud
rejects would pass ``--check`` and fail half-way through a deploy. Every name
the plan emits is therefore held to the documented pattern of its kind here,
in one table (:data:`RULES`), by :func:`validate_names`; the plan refuses to
render (:class:`InvalidNames`) rather than emit one that does not match.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from phasegate.generation import GenerationError
from phasegate.registry.models import Registry

# Cloud Functions (2nd gen) become Cloud Run services, whose names are shorter
# than the functions' own limit of 63: staying within 49 satisfies both.
FUNCTION_NAME_MAX = 49
ACCOUNT_ID_MIN, ACCOUNT_ID_MAX = 6, 30  # IAM service account ids
PROJECT_VARIABLE, REGION_VARIABLE = "PROJECT", "REGION"
PROJECT_NUMBER_VARIABLE = "PROJECT_NUMBER"
PROJECT_PATTERN = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
REGION_PATTERN = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
PUBSUB_AGENT = "service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
# What the plan labels its functions and push subscriptions with, so that a later plan
# can find those of this pipeline that it no longer creates (a renamed transition's).
PIPELINE_LABEL, ROLE_LABEL = "phasegate-pipeline", "phasegate-role"
LABEL_VALUE_MAX = 63
PUBSUB_ID_MAX = 255
DISPLAY_NAME_MAX_BYTES = 100  # IAM service accounts


class PlanError(GenerationError, ValueError):
    """The registry or the flags cannot be turned into a valid plan (a bad --project, say).

    A :class:`~phasegate.generation.GenerationError` too, so ``phasegate generate``
    reports it as an error rather than a crash.
    """


class InvalidNames(PlanError):
    """Names derived from the registry that Google Cloud would reject: the plan is refused."""


@dataclass(frozen=True)
class Rule:
    """The documented form of one kind of name, as a pattern and in words."""

    what: str
    pattern: re.Pattern[str]
    words: str
    max_bytes: int | None = None  # a limit in UTF-8 bytes besides the pattern's


_PUBSUB_ID = re.compile(r"(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}")
_PUBSUB_WORDS = ("3-255 characters: a letter, then letters, digits and - _ . ~ + %; "
                 "not starting with 'goog'")
RULES: dict[str, Rule] = {
    # https://cloud.google.com/pubsub/docs/create-topic#resource_names
    "topic": Rule("Pub/Sub topic id", _PUBSUB_ID, _PUBSUB_WORDS),
    "subscription": Rule("Pub/Sub subscription id", _PUBSUB_ID, _PUBSUB_WORDS),
    # Cloud Functions (2nd gen): lowercase letters, digits and hyphens, starting with a
    # letter, not ending with a hyphen; at most 49 so that the Cloud Run service fits too.
    "function": Rule("Cloud Functions name",
                     re.compile(rf"[a-z](?:[-a-z0-9]{{0,{FUNCTION_NAME_MAX - 2}}}[a-z0-9])?"),
                     f"1-{FUNCTION_NAME_MAX} lowercase letters, digits and hyphens, starting "
                     "with a letter, not ending with a hyphen"),
    # IAM: "must be 6-30 characters long, and match the regular expression
    # [a-z]([-a-z0-9]*[a-z0-9])".
    "account_id": Rule("service account id",
                       re.compile(rf"[a-z][-a-z0-9]{{{ACCOUNT_ID_MIN - 2},{ACCOUNT_ID_MAX - 2}}}"
                                  r"[a-z0-9]"),
                       f"{ACCOUNT_ID_MIN}-{ACCOUNT_ID_MAX} lowercase letters, digits and "
                       "hyphens, starting with a letter, not ending with a hyphen"),
    # IAM: the display name "must be less than or equal to 100 UTF-8 bytes".
    "account_display_name": Rule("service account display name",
                                 re.compile(r"[^\x00-\x1f\x7f]*"),
                                 f"at most {DISPLAY_NAME_MAX_BYTES} UTF-8 bytes, no control "
                                 "characters", DISPLAY_NAME_MAX_BYTES),
    # Cloud Scheduler (discovery document, Job.name): JOB_ID "can contain only letters
    # ([A-Za-z]), numbers ([0-9]), hyphens (-), or underscores (_). The maximum length is 500".
    "scheduler_job": Rule("Cloud Scheduler job id", re.compile(r"[A-Za-z0-9_-]{1,500}"),
                          "1-500 letters, digits, hyphens and underscores"),
    "scheduler_description": Rule("Cloud Scheduler job description",
                                  re.compile(r"[^\x00-\x1f\x7f]{0,500}", re.DOTALL),
                                  "at most 500 characters, no control characters"),
    # Cloud Logging (discovery document, LogMetric.name) allows up to 100 of
    # A-Z a-z 0-9 _-.,+!*',()%/ ('/' a hierarchy, never first). The id is also the
    # Cloud Monitoring metric type logging.googleapis.com/user/<id> that the alert
    # policy's filter quotes, so the plan holds it to the characters both accept plainly.
    "log_metric": Rule("log-based metric id", re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}"),
                       "1-100 letters, digits and _ . - (not starting with . or -)"),
    "alert_display_name": Rule("alert policy display name",
                               re.compile(r"[^\x00-\x1f\x7f]{1,512}"),
                               "1-512 characters, no control characters"),
    # Secret Manager: letters, digits, underscores and hyphens, at most 255 characters.
    "secret": Rule("Secret Manager secret id", re.compile(r"[A-Za-z0-9_-]{1,255}"),
                   "1-255 letters, digits, hyphens and underscores"),
    # Resource labels: keys start with a lowercase letter; keys and values hold at most
    # 63 lowercase letters, digits, underscores and hyphens.
    "label_value": Rule("label value", re.compile(rf"[a-z0-9_-]{{0,{LABEL_VALUE_MAX}}}"),
                        f"at most {LABEL_VALUE_MAX} lowercase letters, digits, _ and -"),
    # gcloud splits --set-env-vars at commas: a value holding one would set other variables.
    "env_value": Rule("environment variable value", re.compile(r"[^,\x00-\x1f]*"),
                      "no commas, no control characters"),
}


@dataclass(frozen=True)
class Emitted:
    """One name the plan emits: its kind (a key of :data:`RULES`), and where it comes from."""

    kind: str
    value: str
    origin: str


def name_problem(kind: str, value: str) -> str | None:
    """Why ``value`` is not a valid name of ``kind``, or None."""
    rule = RULES[kind]
    if rule.pattern.fullmatch(value) and (
            rule.max_bytes is None or len(value.encode("utf-8")) <= rule.max_bytes):
        return None
    return f"{rule.what} {value!r} is invalid: {rule.words}"


def validate_names(emitted: Iterable[Emitted]) -> None:
    """Raise :class:`InvalidNames` listing every name Google Cloud would reject."""
    problems = list(dict.fromkeys(
        f"{problem} (from {item.origin})" for item in emitted
        for problem in [name_problem(item.kind, item.value)] if problem))
    if problems:
        raise InvalidNames("names Google Cloud would reject; nothing planned:\n  "
                           + "\n  ".join(problems))


@dataclass(frozen=True)
class Account:
    """A service account: its email, and its id when the plan creates it in the project."""

    email: str
    account_id: str | None  # None: it lives elsewhere; the plan only checks that it exists
    display_name: str


@dataclass(frozen=True)
class Function:
    """One deployed function and what the plan derives from its name."""

    name: str
    url_variable: str  # the shell variable the plan reads its URL into
    subscription: str | None = None  # the push subscription feeding it (orchestrators only)


@dataclass(frozen=True)
class Names:
    """Every name in one plan. ``project`` and ``region`` may be ``${PROJECT}``/``${REGION}``."""

    project: str
    region: str
    completion_topic: str
    dead_letter_topic: str
    dead_letter_hold: str  # a pull subscription that keeps dead letters (a topic alone drops them)
    function_account: Account
    push_account: Account
    orchestrators: Mapping[str, Function]  # transition -> function, in registry order
    canary: Function
    pipeline_label: str  # the value of PIPELINE_LABEL on what the plan creates
    pipeline: str = ""  # the registry's own spelling, for messages

    def emitted(self) -> list[Emitted]:
        """Every name here that the plan passes to Google Cloud, for :func:`validate_names`."""
        origin = f"pipeline {self.pipeline!r}"
        items = [
            Emitted("topic", self.completion_topic, f"deploy.completion_topic or {origin}"),
            Emitted("topic", self.dead_letter_topic, "deploy.dead_letter_topic or the "
                                                     "completion topic"),
            Emitted("subscription", self.dead_letter_hold, "the dead-letter topic"),
            Emitted("label_value", self.pipeline_label, origin),
            Emitted("function", self.canary.name, origin),
        ]
        for account, field in ((self.function_account, "function_service_account"),
                               (self.push_account, "push_service_account")):
            if account.account_id is not None:
                items.append(Emitted("account_id", account.account_id,
                                     f"deploy.{field} or {origin}"))
                items.append(Emitted("account_display_name", account.display_name, origin))
        for transition, function in self.orchestrators.items():
            where = f"transition {transition!r} of {origin}"
            items += [Emitted("function", function.name, where),
                      Emitted("env_value", transition, where)]
            if function.subscription is not None:
                items.append(Emitted("subscription", function.subscription, where))
        return items

    @property
    def needs(self) -> tuple[str, ...]:
        """The shell variables the plan requires from its caller."""
        return tuple(variable for value, variable in ((self.project, PROJECT_VARIABLE),
                                                      (self.region, REGION_VARIABLE))
                     if value == f"${{{variable}}}")


def slug(text: str) -> str:
    """Lowercase letters, digits and single hyphens, starting with a letter."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"pg-{name}".rstrip("-")
    return name


def _short_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def _shortened(name: str, key: str, limit: int) -> str:
    """``name`` cut to fit ``limit`` with a hash of ``key`` appended: stable and distinct."""
    suffix = _short_hash(key)
    return f"{name[:limit - len(suffix) - 1].rstrip('-')}-{suffix}"


def unique_names(bases: Mapping[str, str], limit: int) -> dict[str, str]:
    """Map each key to its base name, made unique and at most ``limit`` long.

    A base that is too long, or shared by several keys, gets a hash of its key
    appended, so a name depends only on its own key and base, never on the order
    of the others.
    """
    counts: dict[str, int] = {}
    for base in bases.values():
        counts[base] = counts.get(base, 0) + 1
    names = {key: base if len(base) <= limit and counts[base] == 1
             else _shortened(base, key, limit) for key, base in bases.items()}
    if len(set(names.values())) != len(names):  # a hash collision: practically impossible
        raise PlanError(f"cannot derive distinct names for {sorted(bases)}")
    return names


def scheduler_job_id(resource_name: str) -> str:
    """The job id gcloud takes: the last part of the job's resource name, made valid."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", resource_name.rsplit("/", 1)[-1])


def label_value(text: str) -> str:
    """``text`` (a slug) as a label value: at most 63 characters, stable and distinct."""
    return text if len(text) <= LABEL_VALUE_MAX else _shortened(text, text, LABEL_VALUE_MAX)


def pubsub_name(name: str) -> str:
    """A derived topic or subscription id made valid: never "goog..." nor over 255 characters."""
    if name.startswith("goog"):
        name = f"pg-{name}"
    return name if len(name) <= PUBSUB_ID_MAX else _shortened(name, name, PUBSUB_ID_MAX)


def _url_variable(function_name: str) -> str:
    return function_name.upper().replace("-", "_") + "_URL"


def display_name(text: str, max_bytes: int = DISPLAY_NAME_MAX_BYTES) -> str:
    """``text`` as a display name: control characters as spaces, cut to ``max_bytes``."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    while len(f"{text}…".encode()) > max_bytes:
        text = text[:-1]
    return f"{text}…"


def _account(value: str | None, default_id: str, project: str, display: str) -> Account:
    """An account from the registry (a short name or an email) or its default id."""
    display = display_name(display)
    if value is None:
        value = default_id if len(default_id) <= ACCOUNT_ID_MAX else _shortened(
            default_id, default_id, ACCOUNT_ID_MAX)
    domain = f"@{project}.iam.gserviceaccount.com"
    if "@" not in value:
        return Account(f"{value}{domain}", value, display)
    if value.endswith(domain):
        return Account(value, value[: -len(domain)], display)
    return Account(value, None, display)


def _checked(value: str | None, pattern: re.Pattern[str], variable: str, what: str) -> str:
    if value is None:
        return f"${{{variable}}}"
    if not pattern.fullmatch(value):
        raise PlanError(f"{value!r} is not a valid {what}")
    return value


def deploy_names(registry: Registry, project: str | None = None,
                 region: str | None = None) -> Names:
    """Every name in the plan; ``project``/``region`` default to the registry's ``deploy``."""
    deploy = registry.deploy
    project = _checked(project or deploy.project, PROJECT_PATTERN, PROJECT_VARIABLE,
                       "Google Cloud project id")
    region = _checked(region or deploy.region, REGION_PATTERN, REGION_VARIABLE,
                      "Google Cloud region")
    pipeline = slug(registry.pipeline)
    # derived names are made valid; the registry's own are checked (validate_names)
    completion = deploy.completion_topic or pubsub_name(f"{pipeline}-completions")
    dead_letter = deploy.dead_letter_topic or pubsub_name(f"{completion}-dead")
    bases = {f"transition:{name}": slug(f"{pipeline}-{name}") for name in registry.transitions}
    bases["canary"] = slug(f"{pipeline}-canary")
    functions = unique_names(bases, FUNCTION_NAME_MAX)
    orchestrators = {
        name: Function(fn, _url_variable(fn), pubsub_name(f"{fn}-push"))
        for name in registry.transitions
        for fn in [functions[f"transition:{name}"]]
    }
    return Names(
        project=project,
        region=region,
        completion_topic=completion,
        dead_letter_topic=dead_letter,
        dead_letter_hold=pubsub_name(f"{dead_letter}-hold"),
        function_account=_account(deploy.function_service_account, f"phasegate-{pipeline}",
                                  project, f"phasegate functions ({registry.pipeline})"),
        push_account=_account(deploy.push_service_account, f"phasegate-{pipeline}-push",
                              project, f"phasegate push and scheduler ({registry.pipeline})"),
        orchestrators=orchestrators,
        canary=Function(functions["canary"], _url_variable(functions["canary"])),
        pipeline_label=label_value(pipeline),
        pipeline=registry.pipeline,
    )
