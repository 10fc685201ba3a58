"""The single source of truth: the registry models, its loader and what it means."""
