"""docs/rules.md, generated from the rule modules: each rule's docstring is its documentation.

As in yamllint, a rule is one module whose docstring holds its summary, its
prose and a failing and a passing example; this module only assembles them,
and a test fails when docs/rules.md is stale. ``python -m
phasegate.validator.rules_doc [PATH]`` writes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from phasegate.validator.findings import Severity
from phasegate.validator.rules import ALL_RULES

PREAMBLE = """\
# phasegate validator rules

<!-- Generated from the rule modules' docstrings (phasegate/validator/rules/); do not edit.
     Run `python -m phasegate.validator.rules_doc` after changing a rule. -->

`phasegate validate` checks the registry with the rules below. Every finding
has a stable code, a name, a severity, and the file, line and column of the
offending value:

```
registry/processors.yaml:112:9: error PG102 [disabled-but-expected] transition phase2_to_phase3 ...
```

Errors fail the run (exit 1); warnings (marked **warning**) fail only with
`--strict`. Each rule below has a failing and a passing example: complete
registries you can paste into `registry/processors.yaml` and validate. A test
(`tests/test_docs_rules.py`) validates every example in this file, so they
behave exactly as documented: each failing example produces its rule's code,
each passing example produces no finding at all.

Codes are grouped: PG0xx the file itself, PG1xx the registry's meaning,
PG2xx everything outside the registry that the registry declares: generated
artifacts (`generate:`), Python sources (`references.code`, scanned with
`ast`, never imported or run) and configuration files (`references.files`).
Examples of PG2xx rules hold several files; each block's first line names
its path (`# file: ...`), and a `$ phasegate generate` block means the
artifacts were generated before validating.

## Suppressing a finding

Put `# phasegate: ignore[PG202] why this is fine` on the offending line (in
Python or YAML). The reason is required: a suppression without one
suppresses nothing, and a suppression that matches no finding is reported
(PG207), so stale ignores do not pile up. Several codes:
`ignore[PG203, PG204] reason`. Only findings in code and referenced files
(PG2xx) can be suppressed: a registry that does not parse or breaks a rule
(PG0xx, PG1xx) never passes, and an `ignore[PG001]` is itself reported.

"""


def render() -> str:
    """The whole of docs/rules.md."""
    sections = [f"## {rule.code} {rule.name}\n\n"
                f"{'**warning.** ' if rule.severity is Severity.WARNING else ''}{rule.doc}\n"
                for rule in ALL_RULES]
    return PREAMBLE + "\n".join(sections)


def main(argv: list[str] | None = None) -> int:
    target = Path((argv if argv is not None else sys.argv[1:] or ["docs/rules.md"])[0])
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
