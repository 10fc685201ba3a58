"""Trigger policies and targets in the registry: the format on both validation paths, the
models and their digests, the effective required set, and the generated expectations."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from phasegate.registry import models, schema_models
from phasegate.registry.generate import expectations, render_json, render_python
from phasegate.registry.loading import load_registry, load_registry_text
from phasegate.registry.models import Registry, registry_from_data
from phasegate.registry.schema_check import conforms, registry_schema
from phasegate.registry.semantics import (
    digest,
    expected_set,
    required_set,
    transition_behaviour,
    transition_digest,
)
from phasegate.runtime import Expectations, ExpectationsError
from tests.conftest import REFERENCE_REGISTRY, REPO, findings_for

HEAD = "version: 1\npipeline: demo\ntimezone: UTC\n"
PROCESSORS = {"p2_a": {"phase": 2}, "p2_b": {"phase": 2}, "p2_c": {"phase": 2},
              "p2_d": {"phase": 2}, "p2_e": {"phase": 2}}


def _data(**transition: Any) -> dict[str, Any]:
    spec = {"from_phase": 2, "to_phase": 3, "collection": "c", **transition}
    return {"version": 1, "pipeline": "demo", "timezone": "UTC",
            "processors": copy.deepcopy(PROCESSORS), "transitions": {"t23": spec}}


def _pydantic_accepts(data: dict[str, Any]) -> bool:
    try:
        schema_models.Registry.model_validate(data)
    except ValidationError:
        return False
    return True


def _registry(data: dict[str, Any]) -> Registry:
    assert conforms(data), data
    return registry_from_data(data)


# --- the format: pydantic and the fast path agree ------------------------------------------

TRIGGER = {"action": "trigger", "trigger_topic": "go"}
PUBSUB = {"pubsub": {"topic": "go"}}
HTTP = {"http": {"url_env": "TARGET_URL"}}


@pytest.mark.parametrize("policy,valid", [
    ([], True),
    ([{"after": "0m", "min": "all"}], True),
    ([{"after": "30m", "min": 4}, {"after": "2h", "min": 3}], True),
    ([{"after": "1h30m", "min": "60%"}, {"after": "4h", "min": "required"}], True),
    ([{"after": "10s", "min": "100%"}, {"after": "1d", "min": "12.5%"}], True),
    ([{"after": "30m", "min": 0}], False),
    ([{"after": "30m", "min": -1}], False),
    ([{"after": "30m", "min": True}], False),
    ([{"after": "30m", "min": 1.5}], False),
    ([{"after": "30m", "min": "0%"}], False),
    ([{"after": "30m", "min": "101%"}], False),
    ([{"after": "30m", "min": "60"}], False),
    ([{"after": "30m", "min": "most"}], False),
    ([{"after": "30m", "min": None}], False),
    ([{"after": "30", "min": 1}], False),
    ([{"after": 30, "min": 1}], False),
    ([{"after": "", "min": 1}], False),
    ([{"after": "30 m", "min": 1}], False),
    ([{"after": "30m\n", "min": 1}], False),
    ([{"after": "99999999999999999999d", "min": 1}], False),  # beyond a timedelta
    ([{"after": "30m"}], False),
    ([{"min": 1}], False),
    ([{"after": "30m", "min": 1, "reason": "x"}], False),
    ({"after": "30m", "min": 1}, False),
    ("30m", False),
    (None, False),
])
def test_policy_agrees_on_both_paths(policy: Any, valid: bool) -> None:
    data = _data(**TRIGGER, policy=policy)
    assert _pydantic_accepts(data) is valid
    assert conforms(data) is valid


@pytest.mark.parametrize("transition,valid", [
    ({"action": "trigger", "target": PUBSUB}, True),
    ({"action": "trigger", "target": HTTP}, True),
    ({"action": "trigger", "trigger_topic": "go"}, True),
    ({"action": "monitor", "target": PUBSUB}, True),  # a schema matter no more: PG112 says it
    ({"action": "trigger"}, False),
    ({"action": "trigger", "target": None}, False),
    ({"action": "trigger", "trigger_topic": None}, False),
    ({"action": "trigger", "trigger_topic": "go", "target": PUBSUB}, False),
    ({"action": "monitor", "trigger_topic": "go", "target": HTTP}, False),
    ({"trigger_topic": "go", "target": None}, True),
    ({"trigger_topic": None, "target": PUBSUB}, True),
    ({"action": "trigger", "target": {}}, False),
    ({"action": "trigger", "target": {"pubsub": None}}, False),
    ({"action": "trigger", "target": {"pubsub": None, "http": HTTP["http"]}}, True),
    ({"action": "trigger", "target": {**PUBSUB, **HTTP}}, False),
    ({"action": "trigger", "target": {"kafka": {"topic": "go"}}}, False),
    ({"action": "trigger", "target": "go"}, False),
    ({"action": "trigger", "target": {"pubsub": {"topic": "go", "message": None,
                                                  "each": None}}}, True),
    ({"action": "trigger", "target": {"pubsub": {"topic": "go", "each": "completed",
                                                  "message": {"d": "{run_key}"}}}}, True),
    ({"action": "trigger", "target": {"pubsub": {"topic": "go", "each": "all"}}}, False),
    ({"action": "trigger", "target": {"pubsub": {"topic": "go", "message": "x"}}}, False),
    ({"action": "trigger", "target": {"pubsub": {"topic": "go", "message": ["x"]}}}, False),
    ({"action": "trigger", "target": {"pubsub": {"topic": "1go"}}}, False),
    ({"action": "trigger", "target": {"pubsub": {}}}, False),
    ({"action": "trigger", "target": {"pubsub": {"topic": "go", "url_env": "X"}}}, False),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "audience_env": "AUD",
                                               "message": {"a": [1, {"b": None}]},
                                               "each": "completed",
                                               "timeout_seconds": 2.5}}}, True),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "audience_env": None}}}, True),
    ({"action": "trigger", "target": {"http": {"url_env": "https://x.example/run"}}}, False),
    ({"action": "trigger", "target": {"http": {"url_env": "url"}}}, False),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "audience_env": "a b"}}},
     False),
    ({"action": "trigger", "target": {"http": {}}}, False),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "timeout_seconds": 60}}},
     True),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "timeout_seconds": 0}}},
     False),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "timeout_seconds": 60.5}}},
     False),
    ({"action": "trigger", "target": {"http": {"url_env": "URL",
                                               "timeout_seconds": float("inf")}}}, False),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "timeout_seconds": True}}},
     False),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "timeout_seconds": "10"}}},
     False),
    ({"action": "trigger", "target": {"http": {"url_env": "URL", "topic": "go"}}}, False),
])
def test_target_agrees_on_both_paths(transition: dict[str, Any], valid: bool) -> None:
    data = _data(**transition)
    assert _pydantic_accepts(data) is valid
    assert conforms(data) is valid


@pytest.mark.parametrize("message", [
    {"when": dt.date(2026, 2, 10)}, {1: "x"}, {"x": float("inf")}, {"x": {"y": [dt.date.max]}},
    {"x": "{nope}"}, {"x": "{processor}"},
])
def test_a_template_is_any_mapping_to_the_schema(message: dict[Any, Any]) -> None:
    """What JSON cannot hold in a template is PG112's to report, with its place."""
    data = _data(action="trigger", target={"pubsub": {"topic": "go", "message": message}})
    assert _pydantic_accepts(data) and conforms(data)


@pytest.mark.parametrize("transition,valid", [
    ({"action": "trigger", "trigger_topic": "go",
      "policy": [{"after": "30m", "min": 3}]}, True),
    ({"action": "trigger", "target": HTTP}, True),
    ({"action": "trigger", "target": PUBSUB}, True),
    ({"action": "trigger"}, False),
    ({"action": "trigger", "trigger_topic": None}, False),
    ({"action": "trigger", "trigger_topic": "go", "target": PUBSUB}, False),
    ({"action": "trigger", "target": {"pubsub": None}}, False),
    ({"action": "trigger", "target": {**PUBSUB, **HTTP}}, False),
    ({"action": "trigger", "target": HTTP, "policy": [{"after": "30m", "min": "x"}]}, False),
])
def test_the_json_schema_for_editors_agrees(transition: dict[str, Any], valid: bool) -> None:
    validator = jsonschema.Draft202012Validator(registry_schema())
    assert validator.is_valid(_data(**transition)) is valid


def test_unknown_fields_in_a_tier_or_target_are_pg003_at_their_place() -> None:
    text = HEAD + (
        "processors:\n  p2_a: {phase: 2}\ntransitions:\n  t:\n    from_phase: 2\n"
        "    to_phase: 3\n    collection: c\n    action: trigger\n"
        "    policy:\n      - {after: 30m, min: 1, reasn: x}\n"
        "    target:\n      pubsub: {topic: go, mesage: {}}\n"
    )
    found = sorted((f.rule, f.line, f.column) for f in findings_for(text))
    assert found == [("PG003", 13, 30), ("PG003", 15, 27)], found


def test_both_trigger_topic_and_target_is_pg003_saying_why() -> None:
    text = HEAD + (
        "processors:\n  p2_a: {phase: 2}\ntransitions:\n  t:\n    from_phase: 2\n"
        "    to_phase: 3\n    collection: c\n    action: trigger\n    trigger_topic: go\n"
        "    target: {pubsub: {topic: go}}\n"
    )
    [finding] = findings_for(text)
    assert finding.rule == "PG003" and "not both" in finding.message


def test_a_tier_min_that_is_true_is_not_a_count() -> None:
    text = HEAD + (
        "processors:\n  p2_a: {phase: 2}\ntransitions:\n  t:\n    from_phase: 2\n"
        "    to_phase: 3\n    collection: c\n    action: trigger\n    trigger_topic: go\n"
        "    policy: [{after: 30m, min: true}]\n"
    )
    [finding] = findings_for(text)
    assert finding.rule == "PG003" and "true or false" in finding.message


POLICY_PAIRS = [
    (schema_models.PolicyTier, models.PolicyTier),
    (schema_models.PubsubTarget, models.PubsubTarget),
    (schema_models.HttpTarget, models.HttpTarget),
    (schema_models.Target, models.Target),
    (schema_models.Transition, models.Transition),
]


@pytest.mark.parametrize("schema_model,runtime", POLICY_PAIRS,
                         ids=lambda p: getattr(p, "__name__", ""))
def test_new_objects_have_the_models_fields_and_defaults(schema_model: Any, runtime: Any) -> None:
    runtime_fields = {f.name: f for f in dataclasses.fields(runtime)}
    assert set(runtime_fields) == set(schema_model.model_fields)
    for name, info in schema_model.model_fields.items():
        field = runtime_fields[name]
        if info.is_required():
            assert field.default is dataclasses.MISSING, name
            continue
        expected = info.get_default(call_default_factory=True)
        actual = (field.default_factory() if field.default_factory is not dataclasses.MISSING
                  else field.default)
        assert actual == (tuple(expected) if isinstance(expected, list) else expected), name


FULL = _data(
    action="trigger", required=["p2_a"], auto_heal=True,
    policy=[{"after": "0m", "min": "all"}, {"after": "30m", "min": 4},
            {"after": "2h", "min": "60%"}, {"after": "3h", "min": "required"}],
    target={"http": {"url_env": "TARGET_URL", "audience_env": "TARGET_AUDIENCE",
                     "message": {"date": "{run_key}", "done": "{completed}"},
                     "each": None, "timeout_seconds": 5}},
    modes={"late": {"when": "before_today", "expects": ["p2_a", "p2_b"]}},
)
MUTATIONS = st.sampled_from([
    True, False, 0, 1, -1, 4, 1.5, 60, 61, "", "x", "all", "required", "60%", "0%", "101%",
    "30m", "0m", "1h30m", "30", "completed", "TARGET_URL", "bad name", "https://x.example",
    None, [], {}, {"topic": "go"}, {"url_env": "U"}, [{"after": "1m", "min": 1}],
    dt.date(2026, 1, 1), float("inf"),
])


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Any:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


TRANSITION_PATHS = [p for p in _paths(FULL["transitions"]["t23"]) if p]


@st.composite
def mutated(draw: Any) -> dict[str, Any]:
    data = copy.deepcopy(FULL)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(TRANSITION_PATHS))
        parent: Any = data["transitions"]["t23"]
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["set", "delete", "add"]))
            if action == "set":
                parent[path[-1]] = draw(MUTATIONS)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "pubsub", "http", "topic", "after",
                                             "min", "trigger_topic"]))] = draw(MUTATIONS)
        except (KeyError, IndexError, TypeError):
            continue
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fast_path_and_pydantic_agree_on_mutated_policies_and_targets(data: dict[str, Any]
                                                                       ) -> None:
    assert conforms(data) == _pydantic_accepts(data)


# --- digests --------------------------------------------------------------------------------

# the reference registry's digests before policies and targets existed (commit 73e7cbc)
DIGESTS_BEFORE = {
    "registry": "687c60880cae272d8ec9287e8f44e690e6b5ab568ba8b8057d8dcbe026be45a0",
    "phase2_to_phase3": "ee1bcaee671b8050c107c509e5eaa978213def1bb6d6094141bfe70fbc10371c",
    "phase3_to_phase4": "c71346807ef75b9a087fa354eda656e5dc16b9dc3c4e015d65194e1cb697dd02",
}


def test_the_reference_registry_keeps_its_digests() -> None:
    """Nothing here changes the digest of a registry that uses neither policy nor target.

    Pinned values, not the committed artifacts: a change that moved the digests and
    regenerated the artifacts in the same commit would pass a comparison with those.
    """
    registry = load_registry(REFERENCE_REGISTRY).registry
    assert registry is not None
    # the graph artifacts listed since (a registry change of their own) left out
    before = dataclasses.replace(registry, generate=tuple(
        g for g in registry.generate if g.format != "mermaid"))
    assert digest(before) == DIGESTS_BEFORE["registry"]
    for name in registry.transitions:
        assert transition_digest(registry, name) == DIGESTS_BEFORE[name]


def test_absent_and_default_policy_and_target_digest_the_same() -> None:
    plain = _registry(_data(**TRIGGER))
    spelled = _registry(_data(**TRIGGER, policy=[], target=None))
    assert digest(plain) == digest(spelled)
    assert transition_digest(plain, "t23") == transition_digest(spelled, "t23")


def test_a_bare_pubsub_target_is_trigger_topic() -> None:
    short = _registry(_data(action="trigger", trigger_topic="go"))
    for target in (PUBSUB, {"pubsub": {"topic": "go", "message": None, "each": None}},
                   {"pubsub": {"topic": "go"}, "http": None}):
        long = _registry(_data(action="trigger", target=target))
        assert digest(long) == digest(short)
        assert transition_digest(long, "t23") == transition_digest(short, "t23")
        assert expectations(long)["transitions"] == expectations(short)["transitions"]


def test_policy_and_target_change_the_transition_digest_and_only_when_present() -> None:
    base = _registry(_data(**TRIGGER))
    assert {"policy", "target"}.isdisjoint(transition_behaviour(base, "t23"))
    with_policy = _registry(_data(**TRIGGER, policy=[{"after": "30m", "min": 3}]))
    behaviour = transition_behaviour(with_policy, "t23")
    assert behaviour["policy"] == [{"after": "30m", "min": 3}]
    assert behaviour["required"] == []  # a policy without required: nothing beyond counts
    other_min = _registry(_data(**TRIGGER, policy=[{"after": "30m", "min": 2}]))
    templated = _registry(_data(action="trigger", target={"pubsub": {
        "topic": "go", "message": {"d": "{run_key}"}}}))
    http = _registry(_data(action="trigger", target=HTTP))
    digests = {transition_digest(r, "t23") for r in (base, with_policy, other_min, templated,
                                                      http)}
    assert len(digests) == 5
    assert transition_behaviour(templated, "t23")["target"] == {
        "pubsub": {"topic": "go", "message": {"d": "{run_key}"}}}
    assert "trigger_topic" not in transition_behaviour(templated, "t23")
    assert transition_behaviour(http, "t23")["target"] == {"http": {"url_env": "TARGET_URL"}}


def test_a_template_that_json_cannot_hold_still_digests_and_generates() -> None:
    """PG112 reports it; digest, generate and validate's PG201 must not crash on it."""
    registry = _registry(_data(action="trigger", target={"pubsub": {"topic": "go", "message": {
        1: dt.date(2026, 2, 10), "x": float("inf"), "y": [dt.date(2026, 1, 1)]}}}))
    assert digest(registry)
    message = expectations(registry)["transitions"]["t23"]["target"]["message"]
    assert message == {"1": "2026-02-10", "x": None, "y": ["2026-01-01"]}
    namespace: dict[str, Any] = {}
    exec(render_python(registry, "r.yaml"), namespace)
    assert namespace["EXPECTATIONS"]["transitions"]["t23"]["target"]["message"] == message


# --- the effective required set -------------------------------------------------------------

def test_required_defaults_to_everything_without_a_policy_and_nothing_with_one() -> None:
    modes = {"late": {"when": "before_today", "expects": ["p2_a", "p2_b"]},
             "now": {"when": "today", "expects": ["p2_a", "p2_b"], "required": ["p2_b"]}}
    plain = _registry(_data(**TRIGGER, modes=modes))
    transition = plain.transitions["t23"]
    assert required_set(plain, transition) == expected_set(plain, transition)
    assert required_set(plain, transition, transition.modes["late"]) == {"p2_a", "p2_b"}
    assert required_set(plain, transition, transition.modes["now"]) == {"p2_b"}

    tiered = _registry(_data(**TRIGGER, modes=modes, policy=[{"after": "1h", "min": 3}]))
    transition = tiered.transitions["t23"]
    assert required_set(tiered, transition) == frozenset()
    assert required_set(tiered, transition, transition.modes["late"]) == frozenset()
    assert required_set(tiered, transition, transition.modes["now"]) == {"p2_b"}

    explicit = _registry(_data(**TRIGGER, required=["p2_c"], policy=[{"after": "1h", "min": 3}]))
    assert required_set(explicit, explicit.transitions["t23"]) == {"p2_c"}
    # "never fire without these" holds in a mode that says nothing of its own
    both = _registry(_data(**TRIGGER, modes=modes, required=["p2_a"],
                           policy=[{"after": "1h", "min": 1}]))
    transition = both.transitions["t23"]
    assert required_set(both, transition, transition.modes["late"]) == {"p2_a"}
    assert required_set(both, transition, transition.modes["now"]) == {"p2_b"}
    spec = expectations(tiered)["transitions"]["t23"]
    assert spec["required"] == [] and spec["modes"]["late"]["required"] == []
    assert spec["modes"]["now"]["required"] == ["p2_b"]


def test_pg108_covers_required_with_a_policy_too() -> None:
    text = HEAD + (
        "processors:\n  p2_a: {phase: 2}\n  p2_b: {phase: 2}\ntransitions:\n  t:\n"
        "    from_phase: 2\n    to_phase: 3\n    collection: c\n    action: trigger\n"
        "    trigger_topic: go\n    expects: [p2_a]\n    policy: [{after: 30m, min: 1}]\n"
        "{tail}"
    )
    outside = findings_for(text.replace("{tail}", "    required: [p2_b]\n"))
    assert [(f.rule, f.line, f.column) for f in outside] == [("PG108", 16, 16)]
    # absent: nothing beyond the counts, never outside the expected set
    assert findings_for(text.replace("{tail}", "")) == []
    mode = ("    modes:\n      late: {when: before_today, expects: [p2_a]}\n"
            "      now: {when: today, expects: [p2_a], required: [p2_b]}\n")
    found = findings_for(text.replace("{tail}", mode))
    assert [(f.rule, f.line) for f in found] == [("PG108", 18)], found


# --- the generated expectations -------------------------------------------------------------

POLICY_TEXT = HEAD + """\
processors:
  p2_a: {phase: 2}
  p2_b: {phase: 2}
  p2_c: {phase: 2}
  p2_d: {phase: 2}
  p2_e: {phase: 2}
  p3_a: {phase: 3}
  p4_a: {phase: 4}
  p5_a: {phase: 5}
transitions:
  t23:
    from_phase: 2
    to_phase: 3
    collection: c23
    action: trigger
    required: [p2_a]
    auto_heal: true
    policy:
      - {after: 0m, min: all}
      - {after: 30m, min: 4}
      - {after: 2h, min: "60%"}
      - {after: 3h, min: required}
    target:
      pubsub:
        topic: phase3-go
        message: {game_date: "{run_key}", ids: ["{completed}", 7], nested: {ok: true}}
        each: null
  t34:
    from_phase: 3
    to_phase: 4
    collection: c34
    action: trigger
    target:
      http:
        url_env: COORDINATOR_URL
        audience_env: COORDINATOR_AUDIENCE
        message: {date: "{run_key}", processor: "{processor}"}
        each: completed
        timeout_seconds: 2.5
  t45:
    from_phase: 4
    to_phase: 5
    collection: c45
    action: trigger
    trigger_topic: phase5-go
  t56:
    from_phase: 5
    to_phase: 6
    collection: c56
"""


@pytest.fixture(scope="module")
def policy_registry() -> Registry:
    loaded = load_registry_text(POLICY_TEXT, "r.yaml")
    assert loaded.registry is not None, loaded.problems
    return loaded.registry


def test_generated_policy_and_target_shapes(policy_registry: Registry) -> None:
    specs = expectations(policy_registry)["transitions"]
    assert specs["t23"]["policy"] == [
        {"after": "0m", "min": "all"}, {"after": "30m", "min": 4},
        {"after": "2h", "min": "60%"}, {"after": "3h", "min": "required"}]
    assert specs["t23"]["auto_heal"] is True
    assert specs["t23"]["trigger_topic"] == "phase3-go"
    assert specs["t23"]["target"] == {
        "kind": "pubsub", "topic": "phase3-go", "each": None,
        "message": {"game_date": "{run_key}", "ids": ["{completed}", 7],
                    "nested": {"ok": True}}}
    assert specs["t34"]["trigger_topic"] is None
    assert specs["t34"]["target"] == {
        "kind": "http", "url_env": "COORDINATOR_URL", "audience_env": "COORDINATOR_AUDIENCE",
        "message": {"date": "{run_key}", "processor": "{processor}"}, "each": "completed",
        "timeout_seconds": 2.5}
    assert specs["t34"]["policy"] == [] and specs["t34"]["required"] == ["p3_a"]
    assert specs["t45"]["target"] == {"kind": "pubsub", "topic": "phase5-go", "message": None,
                                      "each": None}
    assert specs["t45"]["trigger_topic"] == "phase5-go"
    assert specs["t56"]["target"] is None and specs["t56"]["trigger_topic"] is None
    assert specs["t56"]["policy"] == []


def test_a_monitor_transition_has_no_target() -> None:
    text = POLICY_TEXT.replace("    collection: c45\n    action: trigger\n",
                               "    collection: c45\n    action: monitor\n")
    registry = load_registry_text(text, "r.yaml").registry
    assert registry is not None
    spec = expectations(registry)["transitions"]["t45"]
    assert spec["target"] is None and spec["trigger_topic"] == "phase5-go"


def test_both_formats_carry_the_same_data_and_the_runtime_reads_them(
        policy_registry: Registry) -> None:
    document = json.loads(render_json(policy_registry, "r.yaml"))
    namespace: dict[str, Any] = {}
    exec(render_python(policy_registry, "r.yaml"), namespace)
    module = namespace["EXPECTATIONS"]
    assert json.loads(json.dumps(module))["transitions"] == document["transitions"]
    # a template keeps its lists in the module: policy.render fills lists, not tuples
    assert isinstance(module["transitions"]["t23"]["target"]["message"]["ids"], list)
    Expectations.from_data(module, "orchestrator/expected_processors.py")
    Expectations.from_data(document, "canary/expected.json")
    assert render_python(policy_registry, "r.yaml") == render_python(policy_registry, "r.yaml")
    assert render_json(policy_registry, "r.yaml") == render_json(policy_registry, "r.yaml")


def test_the_generated_policy_drives_phasegate_policy(policy_registry: Registry) -> None:
    from phasegate.policy import Tier, tiers_of

    spec = Expectations.from_data(expectations(policy_registry), "x").transition("t23")
    assert tiers_of(spec) == (Tier("0m", "all"), Tier("30m", 4), Tier("2h", "60%"),
                              Tier("3h", "required"),
                              Tier("240m", "required", "deadline_partial"))


def _bad(edit: Any) -> dict[str, Any]:
    registry = load_registry_text(POLICY_TEXT, "r.yaml").registry
    assert registry is not None
    data = expectations(registry)
    edit(data["transitions"])
    from phasegate.runtime import content_digest

    data["content_digest"] = content_digest(data)  # shape, not a hand edit, is under test
    return data


@pytest.mark.parametrize("edit,words", [
    (lambda t: t["t23"].pop("policy"), "lacks policy"),
    (lambda t: t["t23"].pop("target"), "lacks target"),
    (lambda t: t["t23"].pop("auto_heal"), "lacks auto_heal"),
    (lambda t: t["t23"].__setitem__("auto_heal", "yes"), "auto_heal"),
    (lambda t: t["t23"].__setitem__("trigger_topic", 5), "trigger_topic"),
    (lambda t: t["t23"].__setitem__("policy", "30m"), "policy is not a list"),
    (lambda t: t["t23"]["policy"].append({"after": "1h"}), "policy tier 4"),
    (lambda t: t["t23"]["policy"].append({"after": "soon", "min": 1}), "not a duration"),
    (lambda t: t["t23"]["policy"].append({"after": "5h", "min": True}), "min True"),
    (lambda t: t["t23"]["policy"].append({"after": "5h", "min": 0}), "min 0"),
    (lambda t: t["t23"]["policy"].append({"after": "5h", "min": "most"}), "min 'most'"),
    (lambda t: t["t23"].__setitem__("target", "phase3-go"), "not a pubsub or http target"),
    (lambda t: t["t23"]["target"].__setitem__("kind", "kafka"), "not a pubsub or http"),
    (lambda t: t["t23"]["target"].pop("each"), "fields of a pubsub target"),
    (lambda t: t["t23"]["target"].__setitem__("topic", None), "names no topic"),
    (lambda t: t["t23"]["target"].__setitem__("message", ["x"]), "message is not a template"),
    (lambda t: t["t23"]["target"].__setitem__("each", "all"), "each is not"),
    (lambda t: t["t34"]["target"].__setitem__("url_env", ""), "names no url_env"),
    (lambda t: t["t34"]["target"].__setitem__("audience_env", 3), "names no url_env"),
    (lambda t: t["t34"]["target"].__setitem__("timeout_seconds", 0), "timeout_seconds"),
    (lambda t: t["t34"]["target"].__setitem__("timeout_seconds", "10"), "timeout_seconds"),
    (lambda t: t["t34"]["target"].__setitem__("timeout_seconds", True), "timeout_seconds"),
])
def test_misshapen_firing_settings_fail_at_load_naming_the_file(edit: Any, words: str) -> None:
    with pytest.raises(ExpectationsError) as raised:
        Expectations.from_data(_bad(edit), "canary/expected.json")
    assert "canary/expected.json" in str(raised.value) and words in str(raised.value)


def test_the_repository_artifacts_carry_policy_and_target() -> None:
    document = json.loads((REPO / "canary" / "expected.json").read_text(encoding="utf-8"))
    for spec in document["transitions"].values():
        assert {"policy", "target", "trigger_topic", "auto_heal"} <= set(spec)
    Expectations.load(REPO / "orchestrator" / "expected_processors.py")

