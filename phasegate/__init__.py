"""phasegate: one YAML registry as the single source of truth for a phased pipeline."""

__version__ = "0.1.0"
