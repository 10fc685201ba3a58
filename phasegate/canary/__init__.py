"""The canary: scheduled health checks over the orchestrator's Firestore documents.

A pipeline's deployable ``canary/main.py`` binds :func:`function_handler` to
the ``expected.json`` generated beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phasegate.canary.function import function_handler

__all__ = ["function_handler"]


def __getattr__(name: str) -> Any:
    # Lazy, so that the command line's canary modules never import the function's.
    if name == "function_handler":
        from phasegate.canary.function import function_handler

        return function_handler
    raise AttributeError(name)
