"""``phasegate status``: every transition x run key at a glance, from the canary's evaluation.

:mod:`phasegate.status.grid` builds one model from the canary's own checks
(pure); the reporters (text, JSON, HTML) each render that model, so a new
format never touches the evaluation; :mod:`phasegate.status.read` is the one
batched Firestore read, shared by the command line and the canary function's
``GET /status``.
"""
