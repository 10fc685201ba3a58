"""The drift gate: rules over the registry, findings, and reporters."""
