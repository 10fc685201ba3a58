"""The validator's rules, one module each, in code order.

Each module defines ``RULE`` (code, name, severity, summary) and
``check(ctx)`` yielding findings; its docstring is its documentation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding
from phasegate.validator.rules import (
    pg001_yaml_syntax,
    pg002_duplicate_key,
    pg003_schema,
    pg101_unknown_reference,
    pg102_disabled_but_expected,
    pg103_enabled_with_disabled_input,
    pg104_alias_conflict,
    pg105_not_per_run_key,
    pg106_empty_expectation,
    pg107_phase_mismatch,
    pg108_required_not_expected,
    pg109_disabled_without_reason,
    pg110_timing,
    pg111_input_cycle,
    pg112_policy,
    pg113_unsafe_path,
    pg201_stale_generated,
    pg202_copied_expectation,
    pg203_unknown_name,
    pg204_disabled_referenced,
    pg205_alias_without_class,
    pg206_unscannable_reference,
    pg207_unused_suppression,
    pg208_drifted_copy,
    pg209_enablement_disagrees,
)

LOADING_RULES: tuple[ModuleType, ...] = (pg001_yaml_syntax, pg002_duplicate_key, pg003_schema)
REGISTRY_RULES: tuple[ModuleType, ...] = (
    pg101_unknown_reference,
    pg102_disabled_but_expected,
    pg103_enabled_with_disabled_input,
    pg104_alias_conflict,
    pg105_not_per_run_key,
    pg106_empty_expectation,
    pg107_phase_mismatch,
    pg108_required_not_expected,
    pg109_disabled_without_reason,
    pg110_timing,
    pg111_input_cycle,
    pg112_policy,
    pg113_unsafe_path,
)
SOURCE_RULES: tuple[ModuleType, ...] = (
    pg201_stale_generated,
    pg202_copied_expectation,
    pg203_unknown_name,
    pg204_disabled_referenced,
    pg205_alias_without_class,
    pg206_unscannable_reference,
    pg207_unused_suppression,
    pg208_drifted_copy,
    pg209_enablement_disagrees,
)
ALL_RULES: tuple[Rule, ...] = tuple(
    m.RULE for m in (*LOADING_RULES, *REGISTRY_RULES, *SOURCE_RULES))

RuleCheck = Callable[[RuleContext], Iterator[Finding]]


def checks(modules: tuple[ModuleType, ...]) -> list[RuleCheck]:
    """Each module's ``check``; a rule reported elsewhere (PG207) has none."""
    return [module.check for module in modules if hasattr(module, "check")]
