"""How a run key selects a transition's mode: one function, embedded verbatim in the
generated orchestrator module so that the runtime and the validator cannot disagree.

``select_mode`` must stay the last definition in this file: the generator
copies everything from its ``def`` to the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


def select_mode(whens: Mapping[str, str], run_key: dt.date, today: dt.date) -> str | None:
    """The mode whose ``when`` matches ``run_key`` relative to ``today``, or None.

    ``today`` and ``tomorrow`` match one day and win over the open ranges
    ``before_today`` and ``after_today``. None means the transition's own
    expectations apply.
    """
    days = (run_key - today).days
    exact = {"today": days == 0, "tomorrow": days == 1}
    ranges = {"before_today": days < 0, "after_today": days > 0}
    for table in (exact, ranges):
        for name, when in sorted(whens.items()):
            if table.get(when, False):
                return name
    return None
