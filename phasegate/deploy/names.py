"""Names of everything the plan creates, derived from the registry: pure and deterministic.

Every name is computed here once, so the plan, the check and the tests agree;
a registry's names never reach gcloud in a form Google Cloud would reject
(a pipeline may be called "NBA stats", a transition ``Phase2_to_3``), and two
transitions never share a function, even when their names differ only in case.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

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


class PlanError(ValueError):
    """The registry or the flags cannot be turned into a valid plan (a bad --project, say)."""


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


def _url_variable(function_name: str) -> str:
    return function_name.upper().replace("-", "_") + "_URL"


def _account(value: str | None, default_id: str, project: str, display: str) -> Account:
    """An account from the registry (a short name or an email) or its default id."""
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
    completion = deploy.completion_topic or f"{pipeline}-completions"
    dead_letter = deploy.dead_letter_topic or f"{completion}-dead"
    bases = {f"transition:{name}": slug(f"{pipeline}-{name}") for name in registry.transitions}
    bases["canary"] = slug(f"{pipeline}-canary")
    functions = unique_names(bases, FUNCTION_NAME_MAX)
    orchestrators = {
        name: Function(fn, _url_variable(fn), f"{fn}-push")
        for name in registry.transitions
        for fn in [functions[f"transition:{name}"]]
    }
    return Names(
        project=project,
        region=region,
        completion_topic=completion,
        dead_letter_topic=dead_letter,
        dead_letter_hold=f"{dead_letter}-hold",
        function_account=_account(deploy.function_service_account, f"phasegate-{pipeline}",
                                  project, f"phasegate functions ({registry.pipeline})"),
        push_account=_account(deploy.push_service_account, f"phasegate-{pipeline}-push",
                              project, f"phasegate push and scheduler ({registry.pipeline})"),
        orchestrators=orchestrators,
        canary=Function(functions["canary"], _url_variable(functions["canary"])),
    )
