"""This pipeline's canary: the Cloud Scheduler entry point bound to the generated expectations."""
from pathlib import Path

from phasegate.canary import function_handler

canary_http = function_handler(Path(__file__).with_name("expected.json"))
