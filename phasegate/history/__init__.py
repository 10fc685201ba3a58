"""``phasegate history``: firing latency, days late or stuck, incidents and detection time.

:mod:`phasegate.history.compute` is pure (from mirror rows, or from Firestore
documents and incidents); :mod:`phasegate.history.report` renders text and
JSON; :mod:`phasegate.history.command` is the I/O edge.
"""
