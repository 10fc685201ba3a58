"""The orchestrator: records processor completions in Firestore and fires each phase once.

A pipeline's deployable ``orchestrator/main.py`` binds :func:`function_handlers`
to the expectations module generated beside it; nothing here reads the
registry or anything in site-packages but code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phasegate.orchestrator.function import function_handlers

__all__ = ["function_handlers"]


def __getattr__(name: str) -> Any:
    # Lazy: ``phasegate.orchestrator.core`` (used by the canary and the command line)
    # must not pay for functions-framework.
    if name == "function_handlers":
        from phasegate.orchestrator.function import function_handlers

        return function_handlers
    raise AttributeError(name)
