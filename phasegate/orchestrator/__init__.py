"""The orchestrator: records processor completions in Firestore and triggers each phase once.

At run time it reads only its generated expectations module
(``orchestrator/expected_processors.py``): no YAML, no pydantic.
"""
