"""``phasegate graph``: the registry as a picture (model, then one renderer per format)."""
