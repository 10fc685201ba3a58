"""The Cloud Function entry point: ``on_completion`` for a Pub/Sub push.

Deploy with ``--entry-point on_completion`` and the environment variable
``PHASEGATE_TRANSITION`` (the transition this function serves);
``GOOGLE_CLOUD_PROJECT`` names the project. Importing this module is cheap:
the Firestore and Pub/Sub clients are created on the first delivery.
Malformed messages are stored and acknowledged; transient failures raise,
so Pub/Sub redelivers.
"""

from __future__ import annotations

import os
from typing import Any

import functions_framework

from phasegate.orchestrator.core import Orchestrator

_orchestrator: Orchestrator | None = None


def orchestrator_from_environment() -> Orchestrator:
    """The process's orchestrator, built once from the environment."""
    global _orchestrator
    if _orchestrator is None:
        transition = os.environ.get("PHASEGATE_TRANSITION")
        if not transition:
            raise RuntimeError("PHASEGATE_TRANSITION is not set: which transition does this "
                               "function serve?")
        from google.cloud import firestore

        project = os.environ.get("GOOGLE_CLOUD_PROJECT")
        _orchestrator = Orchestrator(transition, firestore.Client(project=project),
                                     project=project)
    return _orchestrator


@functions_framework.cloud_event
def on_completion(cloud_event: Any) -> None:
    """Handle one processor-completion message delivered by Pub/Sub."""
    orchestrator_from_environment().handle_push(cloud_event.data)
