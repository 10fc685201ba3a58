"""This pipeline's orchestrator: Cloud Function entry points bound to the generated expectations.

One deployment serves one transition, named by PHASEGATE_TRANSITION: `phasegate deploy plan`
sets it; set it yourself to run this locally with functions-framework.
"""
from pathlib import Path

from phasegate.orchestrator import function_handlers

on_completion, on_push = function_handlers(Path(__file__).with_name("expected_processors.py"))
