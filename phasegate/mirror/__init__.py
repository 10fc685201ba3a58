"""The optional BigQuery mirror: one row per recorded completion, firing and incident.

:mod:`phasegate.mirror.rows` is pure (rows, insert ids, the table schema);
:mod:`phasegate.mirror.sender` is the I/O edge over google-cloud-bigquery, with
an injectable client and bounded timeouts. Nothing here may block or fail the
Firestore path: a failure comes back as a reason, never as an exception.
"""
