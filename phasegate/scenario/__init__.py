"""Scenario tests: replay a pipeline's days through the real orchestrator and canary."""
