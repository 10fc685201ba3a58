"""The registry as plain, immutable Python objects: what every other module reads.

These dataclasses are built only from data that has passed validation
(:mod:`registry.loading`), so they carry no checks of their own. They import
nothing heavy: ``phasegate validate`` and the generator start fast, and the
orchestrator's runtime never needs them at all. The format's definition, its
JSON Schema and its error messages live in :mod:`registry.schema_models`; a
test keeps field names and defaults of the two in step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, replace
from typing import Any, Literal

ExpectsField = Literal["all"] | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scraper:
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Processor:
    phase: int
    inputs: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    per_run_key: bool = True
    outputs: tuple[str, ...] = ()  # tables it writes
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Mode:
    when: str
    expects: ExpectsField = "all"
    required: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PolicyTier:
    after: str  # a duration as written (30m): a firing's reason is tier:<after>
    min: str | int  # "all" | N | "P%" | "required"


@dataclass(frozen=True, slots=True)
class PubsubTarget:
    topic: str
    message: Mapping[Any, Any] | None = None  # a template (phasegate.policy.render)
    each: str | None = None  # None | "completed"


@dataclass(frozen=True, slots=True)
class HttpTarget:
    url_env: str
    audience_env: str | None = None
    message: Mapping[Any, Any] | None = None
    each: str | None = None
    timeout_seconds: float = 10


@dataclass(frozen=True, slots=True)
class Target:
    pubsub: PubsubTarget | None = None  # exactly one of the two is set
    http: HttpTarget | None = None

    @property
    def kind(self) -> str:
        return "pubsub" if self.pubsub is not None else "http"


@dataclass(frozen=True, slots=True)
class Transition:
    from_phase: int
    to_phase: int
    collection: str
    action: str = "monitor"
    trigger_topic: str | None = None
    expects: ExpectsField = "all"
    required: tuple[str, ...] | None = None
    deadline_minutes: int = 240
    grace_minutes: int = 30
    modes: Mapping[str, Mode] = field(default_factory=dict)
    auto_heal: bool = False
    policy: tuple[PolicyTier, ...] = ()
    target: Target | None = None

    def normalized(self) -> Transition:
        """The short form where there is one: a target that is only a Pub/Sub topic is
        ``trigger_topic``, so the two spellings digest the same."""
        pubsub = self.target.pubsub if self.target is not None else None
        if pubsub is not None and pubsub.message is None and pubsub.each is None:
            return replace(self, trigger_topic=pubsub.topic, target=None)
        return self

    def effective_target(self) -> Target | None:
        """Where firing goes, ``trigger_topic`` spelled out as a Pub/Sub target."""
        if self.target is not None:
            return self.target
        return Target(pubsub=PubsubTarget(self.trigger_topic)) if self.trigger_topic else None


@dataclass(frozen=True, slots=True)
class QuietPeriod:
    from_: dt.date
    to: dt.date
    reason: str


@dataclass(frozen=True, slots=True)
class Notify:
    channel: str  # slack | webhook | log
    url_env: str | None = None


@dataclass(frozen=True, slots=True)
class Early:
    silent_run_keys: int = 2  # 0: the silence rule is off
    learn_days: int = 14  # 0: the learned rule is off
    min_samples: int = 5
    slack_minutes: int = 30


@dataclass(frozen=True, slots=True)
class Canary:
    schedule: str = "*/15 * * * *"
    lookback_days: int = 3
    renotify_hours: float = 6
    quiet_periods: tuple[QuietPeriod, ...] = ()
    calendar: str | None = None
    missing_run_after_hours: float = 30
    notify: tuple[Notify, ...] = ()
    early: Early = field(default_factory=Early)


@dataclass(frozen=True, slots=True)
class FileReference:
    path: str
    select: str
    kind: str  # scraper | processor
    key: bool = False  # the names are the mapping keys the select's last part matches
    enabled: str | None = None  # a boolean field beside each name, compared (PG209)


@dataclass(frozen=True, slots=True)
class CodeReference:
    path: str  # a file, a directory or a glob
    exclude: tuple[str, ...] = ()  # globs


@dataclass(frozen=True, slots=True)
class CallReference:
    function: str
    kind: str  # scraper | processor
    arg: int | None = None  # exactly one of arg and keyword is set
    keyword: str | None = None


@dataclass(frozen=True, slots=True)
class References:
    # a plain path stays a string (as in registries before excludes), so old digests hold
    code: tuple[str | CodeReference, ...] = ()
    exclude: tuple[str, ...] = ()  # globs, for code and files
    files: tuple[FileReference, ...] = ()
    calls: tuple[CallReference, ...] = ()


@dataclass(frozen=True, slots=True)
class GenerateTarget:
    path: str
    format: str  # python | json | cloud-scheduler | canary-monitoring | deploy-plan | requirements
    # | mermaid | bigquery-schema


@dataclass(frozen=True, slots=True)
class Deploy:
    project: str | None = None
    region: str | None = None
    completion_topic: str | None = None
    function_service_account: str | None = None
    push_service_account: str | None = None
    dead_letter_topic: str | None = None
    max_delivery_attempts: int = 10


@dataclass(frozen=True, slots=True)
class BigQueryMirror:
    table: str  # project.dataset.table


@dataclass(frozen=True, slots=True)
class Mirror:
    bigquery: BigQueryMirror


@dataclass(frozen=True, slots=True)
class Registry:
    version: int
    pipeline: str
    timezone: str
    processors: Mapping[str, Processor]
    scrapers: Mapping[str, Scraper] = field(default_factory=dict)
    transitions: Mapping[str, Transition] = field(default_factory=dict)
    canary: Canary = field(default_factory=Canary)
    references: References = field(default_factory=References)
    generate: tuple[GenerateTarget, ...] = ()
    deploy: Deploy = field(default_factory=Deploy)
    mirror: Mirror | None = None  # absent: digests as before the mirror existed


def _names(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def _expectation(value: Any) -> ExpectsField:
    return "all" if value is None or value == "all" else tuple(value)


def _optional_names(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _scraper(d: Mapping[str, Any]) -> Scraper:
    return Scraper(d.get("enabled", True), d.get("disabled_reason"), d.get("disabled_on"))


def _processor(d: Mapping[str, Any]) -> Processor:
    return Processor(
        phase=d["phase"],
        inputs=_names(d.get("inputs")),
        aliases=_names(d.get("aliases")),
        per_run_key=d.get("per_run_key", True),
        outputs=_names(d.get("outputs")),
        enabled=d.get("enabled", True),
        disabled_reason=d.get("disabled_reason"),
        disabled_on=d.get("disabled_on"),
    )


def _mode(d: Mapping[str, Any]) -> Mode:
    return Mode(d["when"], _expectation(d.get("expects")), _optional_names(d.get("required")))


def _target(d: Mapping[str, Any] | None) -> Target | None:
    if d is None:
        return None
    pubsub, http = d.get("pubsub"), d.get("http")
    return Target(
        pubsub=None if pubsub is None else PubsubTarget(
            pubsub["topic"], pubsub.get("message"), pubsub.get("each")),
        http=None if http is None else HttpTarget(
            http["url_env"], http.get("audience_env"), http.get("message"), http.get("each"),
            http.get("timeout_seconds", 10)),
    )


def _transition(d: Mapping[str, Any]) -> Transition:
    return Transition(
        from_phase=d["from_phase"],
        to_phase=d["to_phase"],
        collection=d["collection"],
        action=d.get("action", "monitor"),
        trigger_topic=d.get("trigger_topic"),
        expects=_expectation(d.get("expects")),
        required=_optional_names(d.get("required")),
        deadline_minutes=d.get("deadline_minutes", 240),
        grace_minutes=d.get("grace_minutes", 30),
        modes={name: _mode(m) for name, m in (d.get("modes") or {}).items()},
        auto_heal=d.get("auto_heal", False),
        policy=tuple(PolicyTier(t["after"], t["min"]) for t in d.get("policy") or ()),
        target=_target(d.get("target")),
    )


def _notify(d: Mapping[str, Any]) -> Notify:
    channel = next(name for name, value in d.items() if value is not None)
    settings = d[channel] or {}
    return Notify(channel, settings.get("url_env"))


def _canary(d: Mapping[str, Any]) -> Canary:
    return Canary(
        schedule=d.get("schedule", "*/15 * * * *"),
        lookback_days=d.get("lookback_days", 3),
        renotify_hours=d.get("renotify_hours", 6),
        quiet_periods=tuple(
            QuietPeriod(q["from"], q["to"], q["reason"]) for q in d.get("quiet_periods") or ()
        ),
        calendar=d.get("calendar"),
        missing_run_after_hours=d.get("missing_run_after_hours", 30),
        notify=tuple(_notify(n) for n in d.get("notify") or ()),
        early=Early(**(d.get("early") or {})),
    )


def _code_reference(item: Any) -> str | CodeReference:
    """A mapping without excludes means what its bare path means, and digests the same."""
    if isinstance(item, str):
        return item
    exclude = tuple(item.get("exclude") or ())
    return CodeReference(item["path"], exclude) if exclude else item["path"]


def _references(d: Mapping[str, Any]) -> References:
    return References(
        code=tuple(_code_reference(item) for item in d.get("code") or ()),
        exclude=_names(d.get("exclude")),
        files=tuple(FileReference(f["path"], f["select"], f["kind"], bool(f.get("key", False)),
                                  f.get("enabled")) for f in d.get("files") or ()),
        calls=tuple(CallReference(c["function"], c["kind"], c.get("arg"), c.get("keyword"))
                    for c in d.get("calls") or ()),
    )


def registry_from_data(data: Mapping[str, Any]) -> Registry:
    """Build the objects from validated plain data (dicts, lists, dates)."""
    return Registry(
        version=data["version"],
        pipeline=data["pipeline"],
        timezone=data["timezone"],
        processors={name: _processor(p) for name, p in data["processors"].items()},
        scrapers={name: _scraper(s) for name, s in (data.get("scrapers") or {}).items()},
        transitions={name: _transition(t) for name, t in (data.get("transitions") or {}).items()},
        canary=_canary(data.get("canary") or {}),
        references=_references(data.get("references") or {}),
        generate=tuple(GenerateTarget(g["path"], g["format"]) for g in data.get("generate") or ()),
        deploy=Deploy(**(data.get("deploy") or {})),
        mirror=_mirror(data.get("mirror")),
    )


def _mirror(d: Mapping[str, Any] | None) -> Mirror | None:
    if not d or not d.get("bigquery"):
        return None
    return Mirror(BigQueryMirror(str(d["bigquery"]["table"])))


def canonical_data(registry: Registry) -> dict[str, Any]:
    """The registry as JSON-ready data with every default filled in.

    Keys use the registry's spelling (``from``, not ``from_``); lists stay in
    registry order; dates are ISO strings.
    """
    plain: dict[str, Any] = _plain(registry, keep_defaults=True)
    return plain


# Lists whose order means nothing: sorted for the digest, so reordering them changes nothing.
UNORDERED_FIELDS = frozenset({"aliases", "outputs", "inputs", "expects", "required", "exclude"})


def digest_data(value: Any) -> Any:
    """``value`` as JSON-ready data with every field at its default left out.

    An absent optional field and one spelled out at its default are the same,
    and a feature added to the format later never changes the digest of a
    registry that does not use it; name lists are sorted. The digests hash this.
    """
    return _plain(value, keep_defaults=False)


def _default(spec: Any) -> Any:
    if spec.default is not MISSING:
        return spec.default
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    return MISSING


def _unordered(value: Any) -> Any:
    return tuple(sorted(value)) if isinstance(value, tuple) else value


def _plain(value: Any, keep_defaults: bool) -> Any:
    if isinstance(value, Transition):
        value = value.normalized()
    if isinstance(value, Notify):
        settings = {} if value.url_env is None else {"url_env": value.url_env}
        return {value.channel: settings}
    if hasattr(value, "__dataclass_fields__"):
        return {
            ("from" if name == "from_" else name): _plain(
                _unordered(getattr(value, name)) if not keep_defaults
                and name in UNORDERED_FIELDS else getattr(value, name), keep_defaults)
            for name, spec in value.__dataclass_fields__.items()
            if keep_defaults or getattr(value, name) != _default(spec)
        }
    if isinstance(value, Mapping):
        # keys are text, except in a message template that PG112 rejects: still digestible
        return {key if isinstance(key, str) else str(key): _plain(item, keep_defaults)
                for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item, keep_defaults) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
