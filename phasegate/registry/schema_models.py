"""The registry format as pydantic models: the one definition of what is valid.

``registry/schema.json`` is exported from these models, so editors, the
validator's fast path and check-jsonschema all agree; when the fast path
finds a problem, these models explain it with pydantic's precise errors.
Models are strict (no coercion of ``"yes"`` to ``True``) and forbid unknown
fields: a typo must never pass. Checks JSON Schema cannot express live in
:mod:`registry.constraints`, shared with the fast path.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from phasegate.registry import constraints
from phasegate.registry.constraints import DURATION_PATTERN, ENV_NAME_PATTERN, NAME_PATTERN

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
# Bounds the canary enforces at run time too (100 years): a larger number passes nothing.
PositiveMinutes = Annotated[int, Field(gt=0, le=52_560_000)]
Hours = Annotated[float, Field(gt=0, le=876_000)]
TopicName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.~+%\-]*$")]
# A table a processor writes, such as nba_raw.nbac_gamebook_player_stats.
OutputName = Annotated[str, StringConstraints(
    pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$", max_length=1024)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
# all | N | "P%" | required; phasegate.policy.min_problem says what else is wrong
Percent = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]+)?%$")]
TierMin = Literal["all", "required"] | Annotated[int, Field(ge=1)] | Percent
# A message template: any mapping; PG112 reports what would not render (phasegate.policy).
Template = dict[Any, Any]


class _Strict(BaseModel):
    # allow_inf_nan=False: YAML's .inf and .nan are no durations (they broke every canary run)
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True,
                              allow_inf_nan=False)


class _Disableable(_Strict):
    enabled: bool = Field(True, description="false takes it out of every expected set")
    disabled_reason: str | None = Field(
        None, description="why it is disabled; shown in alerts and validator messages"
    )
    disabled_on: dt.date | None = Field(None, description="when it was disabled")


class Scraper(_Disableable):
    """A data source at the head of the pipeline."""


class Processor(_Disableable):
    """A processor that reports completion to an orchestrator."""

    phase: Annotated[int, Field(ge=1)]
    inputs: list[Name] = Field(
        default_factory=list, description="scrapers or processors it needs; all must be enabled"
    )
    aliases: list[Name] = Field(
        default_factory=list, description="other names it reports under (class or table names)"
    )
    per_run_key: bool = Field(
        True, description="false for season-level processors that never report per run key"
    )
    outputs: list[OutputName] = Field(
        default_factory=list,
        description="tables it writes; code naming one refers to this processor")


ExpectsField = Literal["all"] | list[Name]
ModeWhen = Literal["before_today", "today", "tomorrow", "after_today"]


class Mode(_Strict):
    """Expectations that apply when the run key stands in a relation to today."""

    when: ModeWhen
    expects: ExpectsField = "all"
    required: list[Name] | None = Field(
        None, description="never fire without these; default: the mode's expected set, or, "
                          "when the transition has a policy, the transition's own required "
                          "ones the mode expects (else nothing)")


class PolicyTier(_Strict):
    """A relaxation over the time since the first expected completion (a quorum)."""

    # the pattern as JSON Schema only: the validator's message names the form
    after: str = Field(
        description="time since the first expected completion: 0m, 30m, 2h, 1h30m; strictly "
                    "increasing from tier to tier and before deadline_minutes",
        json_schema_extra={"pattern": DURATION_PATTERN})
    min: TierMin = Field(
        description="the least that must be complete, required ones always included: all, "
                    "a count N (above the expected count means all), a percentage \"60%\" of "
                    "the expected (rounded up) or required; never increasing from tier to tier")

    @field_validator("after")
    @classmethod
    def _a_duration(cls, value: str) -> str:
        _raise_if(constraints.duration_error(value))
        return value

    @field_validator("min", mode="before")
    @classmethod
    def _a_min(cls, value: Any) -> Any:
        _raise_if(constraints.min_error(value))  # before the union: one clear message
        return value


Each = Literal["completed"] | None
_MESSAGE = ("a template (any mapping) of the message body; strings may hold {run_key} "
            "{transition} {mode} {reason} {trigger_id} {completed} {missing} {processor}; "
            "default: {run_key, transition, completed, trigger_id, reason}")
_EACH = "completed: one message per completed processor ({processor}); default: one message"


class PubsubTarget(_Strict):
    """Firing publishes to a Pub/Sub topic."""

    topic: TopicName
    message: Template | None = Field(None, description=_MESSAGE)
    each: Each = Field(None, description=_EACH)


class HttpTarget(_Strict):
    """Firing POSTs JSON to a URL, with an OIDC ID token when an audience is named."""

    # patterns as JSON Schema only: the validator says why (a URL where a name belongs)
    url_env: str = Field(
        description="name of the environment variable holding the URL (the deploy plan "
                    "passes it from the deployer's shell to the orchestrator)",
        json_schema_extra={"pattern": ENV_NAME_PATTERN})
    audience_env: str | None = Field(
        None, description="name of the environment variable holding the audience of the "
                          "OIDC ID token sent with each request",
        json_schema_extra={"pattern": ENV_NAME_PATTERN})
    message: Template | None = Field(None, description=_MESSAGE)
    each: Each = Field(None, description=_EACH)
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        10, description="seconds to wait for a response; a timeout or 5xx is retried with the "
                        "same trigger id")

    @field_validator("url_env", "audience_env")
    @classmethod
    def _is_env_name(cls, value: str | None) -> str | None:
        if value is not None:
            _raise_if(constraints.env_name_error(value))
        return value


class Target(_Strict):
    """What firing does: exactly one of pubsub or http."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": [kind], "properties": {kind: {"type": "object"}}}
        for kind in constraints.TARGET_KINDS
    ]})

    pubsub: PubsubTarget | None = None
    http: HttpTarget | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        chosen = [kind for kind in constraints.TARGET_KINDS if getattr(self, kind) is not None]
        _raise_if(constraints.target_error(chosen))
        return self


_REQUIRED = ("never fire without these; default: everything expected, or nothing beyond the "
             "policy's counts when the transition has a policy")


class Transition(_Strict):
    """A gate between two phases: which processors must finish first."""

    model_config = ConfigDict(
        json_schema_extra={"allOf": [
            {  # firing needs somewhere to go
                "if": {"properties": {"action": {"const": "trigger"}}, "required": ["action"]},
                "then": {"anyOf": [
                    {"required": ["trigger_topic"],
                     "properties": {"trigger_topic": {"type": "string"}}},
                    {"required": ["target"], "properties": {"target": {"type": "object"}}},
                ]},
            },
            {  # trigger_topic is the short form of a target: never both
                "if": {"required": ["trigger_topic"],
                       "properties": {"trigger_topic": {"type": "string"}}},
                "then": {"properties": {"target": {"type": "null"}}},
            },
        ]}
    )

    from_phase: Annotated[int, Field(ge=1)]
    to_phase: Annotated[int, Field(ge=1)]
    collection: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]+$")]
    action: Literal["monitor", "trigger"] = "monitor"
    trigger_topic: TopicName | None = Field(
        None, description="short for target: {pubsub: {topic: NAME}}")
    expects: ExpectsField = "all"
    required: list[Name] | None = Field(None, description=_REQUIRED)
    deadline_minutes: PositiveMinutes = 240
    grace_minutes: PositiveMinutes = 30
    modes: dict[Name, Mode] = Field(default_factory=dict)
    auto_heal: bool = Field(
        False, description="let the canary fire a LATE transition whose required processors "
                           "are all complete (reason deadline_partial)")
    policy: list[PolicyTier] = Field(
        default_factory=list,
        description="when to fire before all expected are complete: tiers {after, min}; "
                    "default: only when every expected one is complete")
    target: Target | None = Field(
        None, description="what firing does (action: trigger): pubsub or http")

    @model_validator(mode="after")
    def _trigger_needs_topic(self) -> Transition:
        _raise_if(constraints.trigger_topic_error(self.action, self.trigger_topic, self.target))
        return self

    @field_validator("modes")
    @classmethod
    def _one_mode_per_when(cls, modes: dict[str, Mode]) -> dict[str, Mode]:
        _raise_if(constraints.modes_when_error({n: m.when for n, m in modes.items()}))
        return modes


class QuietPeriod(_Strict):
    """Dates on which missing data is expected (a break, the off-season)."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    reason: str

    @model_validator(mode="after")
    def _ordered(self) -> QuietPeriod:
        _raise_if(constraints.quiet_period_error(self.from_, self.to))
        return self


class UrlFromEnv(_Strict):
    """A secret URL, named by the environment variable that holds it."""

    url_env: str = Field(
        description="name of the environment variable holding the URL",
        json_schema_extra={"pattern": ENV_NAME_PATTERN},
    )

    @field_validator("url_env")
    @classmethod
    def _is_env_name(cls, value: str) -> str:
        _raise_if(constraints.env_name_error(value))
        return value


class LogChannel(_Strict):
    """Structured JSON log lines; needs no configuration."""


class Notify(_Strict):
    """One notification channel: exactly one of slack, webhook or log."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    slack: UrlFromEnv | None = None
    webhook: UrlFromEnv | None = None
    log: LogChannel | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Notify:
        chosen = [n for n in constraints.NOTIFY_CHANNELS if getattr(self, n) is not None]
        _raise_if(constraints.notify_error(chosen))
        return self


class Early(_Strict):
    """LATE before the deadline when the evidence is there; each rule turns off with 0."""

    silent_run_keys: Annotated[int, Field(ge=0, le=60)] = Field(
        2, description="late once every other expected processor completed when missing from "
                       "this many consecutive run keys that have a document, this one "
                       "included (0: off)")
    learn_days: Annotated[int, Field(ge=0, le=366)] = Field(
        14, description="days of completions each processor's usual time is learned from "
                        "(0: off)")
    min_samples: Annotated[int, Field(ge=3, le=366)] = Field(
        5, description="completions needed before the learned time is used")
    slack_minutes: PositiveMinutes = Field(
        30, description="late when later than the latest completion offset seen plus this")


class Canary(_Strict):
    """How the runtime canary checks documents and whom it tells."""

    schedule: str = Field("*/15 * * * *", description="cron expression of the canary runs")
    lookback_days: Annotated[int, Field(ge=0, le=60)] = 3
    renotify_hours: Hours = 6
    quiet_periods: list[QuietPeriod] = Field(default_factory=list)
    calendar: str | None = Field(None, description="file of run keys on which a run is expected")
    missing_run_after_hours: Hours = 30
    notify: list[Notify] = Field(default_factory=list)
    early: Early = Field(default_factory=Early)

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        _raise_if(constraints.cron_error(value))
        return value


class FileReference(_Strict):
    """Names held in a YAML or JSON file, found by a dotted select path."""

    path: str
    select: str = Field(description="dotted path; * matches every key or list item")
    kind: Literal["scraper", "processor"]
    key: bool = Field(
        False, description="the names are the mapping keys the select path's last part "
                           "matches, not the values")
    enabled: Identifier | None = Field(
        None, description="a boolean field beside each name (in the mapping the name is a key "
                          "or a value of) that is compared with the registry's enablement "
                          "(PG209)")


class CallReference(_Strict):
    """A function whose argument names a scraper or processor wherever code calls it."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["arg"], "properties": {"arg": {"type": "integer"}}},
        {"required": ["keyword"], "properties": {"keyword": {"type": "string"}}},
    ]})

    function: Identifier = Field(description="the callee's name (or an attribute's last part)")
    arg: Annotated[int, Field(ge=0)] | None = Field(
        None, description="0-based position of the argument holding the name")
    keyword: Identifier | None = Field(
        None, description="keyword of the argument holding the name")
    kind: Literal["scraper", "processor"]

    @model_validator(mode="after")
    def _exactly_one_place(self) -> CallReference:
        if (self.arg is None) == (self.keyword is None):
            raise ValueError("a call reference names exactly one of arg or keyword")
        return self


Globs = list[str]


class CodeReference(_Strict):
    """Python sources to scan, less what some globs exclude."""

    path: str = Field(description="a file, a directory, or a glob (*, ** and ?) of them")
    exclude: Globs = Field(
        default_factory=list, description="globs of repository-relative paths not to scan")


class References(_Strict):
    """Where else names live; the validator checks them."""

    code: list[str | CodeReference] = Field(
        default_factory=list,
        description="Python sources to scan: files, directories or globs (*, ** and ?) of "
                    "repository-relative paths, each alone or as {path, exclude}")
    exclude: Globs = Field(
        default_factory=list,
        description="globs of repository-relative paths that are never scanned (code or files)")
    files: list[FileReference] = Field(default_factory=list)
    calls: list[CallReference] = Field(
        default_factory=list,
        description="functions whose string arguments are names: {function, arg or keyword, "
                    "kind}")


class GenerateTarget(_Strict):
    """A deploy-time artifact generated from the registry."""

    path: str
    format: Literal["python", "json", "cloud-scheduler", "canary-monitoring", "deploy-plan",
                    "requirements", "mermaid", "bigquery-schema"] = Field(
        description="python: the orchestrator's module; json: the canary's expectations; "
                    "cloud-scheduler: the canary's Cloud Scheduler job; canary-monitoring: a "
                    "log-based metric and an alert policy for an absent canary heartbeat; "
                    "deploy-plan: the gcloud commands that deploy the pipeline; "
                    "requirements: a deployable folder's pinned requirements.txt; mermaid: the "
                    "registry's graph as Markdown (into a Markdown file that marks a region "
                    "with <!-- phasegate:mermaid --> and <!-- /phasegate:mermaid -->, only "
                    "that region); bigquery-schema: the BigQuery mirror's table schema (JSON "
                    "for `bq mk --table`)")


ProjectId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9\-]{4,28}[a-z0-9]$")]
Region = Annotated[str, StringConstraints(pattern=r"^[a-z]+-[a-z]+[0-9]+$")]
AccountName = Annotated[str, StringConstraints(
    pattern=r"^([a-z][a-z0-9\-]{4,28}[a-z0-9]|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+)$")]


class Deploy(_Strict):
    """What `phasegate deploy plan` needs beyond its flags; every field is optional."""

    project: ProjectId | None = Field(None, description="Google Cloud project (or --project)")
    region: Region | None = Field(None, description="functions' region (or --region)")
    completion_topic: TopicName | None = Field(
        None, description="topic the processors publish completions to "
                          "(default: <pipeline>-completions)")
    function_service_account: AccountName | None = Field(
        None, description="the functions' runtime identity (default: phasegate-<pipeline>)")
    push_service_account: AccountName | None = Field(
        None, description="the identity Pub/Sub pushes as (default: phasegate-<pipeline>-push)")
    dead_letter_topic: TopicName | None = Field(
        None, description="where undeliverable completions go "
                          "(default: <completion_topic>-dead)")
    max_delivery_attempts: Annotated[int, Field(ge=5, le=100)] = Field(
        10, description="deliveries before a message goes to the dead-letter topic (5-100)")


# project.dataset.table, as BigQuery names them (a project id may hold a domain: "a.com:p")
TableName = Annotated[str, StringConstraints(
    pattern=r"^[a-z][a-z0-9\-.:]{4,62}[a-z0-9]\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_\-]{1,1024}$")]


class BigQueryMirror(_Strict):
    """Where the BigQuery mirror appends its rows."""

    table: TableName = Field(description="project.dataset.table the rows are appended to")


class Mirror(_Strict):
    """Optional: completions, firings and incidents also go to BigQuery (`phasegate history`)."""

    bigquery: BigQueryMirror


class Registry(_Strict):
    """The single source of truth for a pipeline's phases."""

    model_config = ConfigDict(title="phasegate registry")

    version: Literal[1]
    pipeline: Annotated[str, StringConstraints(min_length=1)]
    timezone: str = Field(description="IANA zone of run keys and of 'today'")
    scrapers: dict[Name, Scraper] = Field(default_factory=dict)
    processors: dict[Name, Processor]
    transitions: dict[Name, Transition] = Field(default_factory=dict)
    canary: Canary = Field(default_factory=Canary)
    references: References = Field(default_factory=References)
    generate: list[GenerateTarget] = Field(default_factory=list)
    deploy: Deploy = Field(default_factory=Deploy)
    mirror: Mirror | None = Field(
        None, description="optional: also append completions, firings and incidents to BigQuery")

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_number(cls, value: Any) -> Any:
        if isinstance(value, bool):  # Literal[1] would accept True, which equals 1
            raise ValueError(f"version must be the number 1, not {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        _raise_if(constraints.timezone_error(value))
        return value


def _raise_if(error: str | None) -> None:
    if error is not None:
        raise ValueError(error)


def _close_pattern_properties(node: Any) -> None:
    """Mappings keyed by names accept no other keys, as the models enforce."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close_pattern_properties(value)
    elif isinstance(node, list):
        for value in node:
            _close_pattern_properties(value)


def export_schema() -> dict[str, Any]:
    """The JSON Schema of the registry, as checked in at registry/schema.json."""
    schema = Registry.model_json_schema(by_alias=True)
    _close_pattern_properties(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://phasegate.dev/schema/registry-v1.json"
    return schema
