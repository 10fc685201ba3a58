"""The canary: scheduled health checks over the orchestrator's Firestore documents.

It reads its generated ``canary/expected.json`` (expectations plus canary
settings) and compares the digest with the documents it reads.
"""
