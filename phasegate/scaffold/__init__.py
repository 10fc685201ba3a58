"""``phasegate init``: scaffold a pipeline's registry, deployable folders, hook and workflow."""

from phasegate.scaffold.command import check_prefix, init_command, sanitize_pipeline_name

__all__ = ["check_prefix", "init_command", "sanitize_pipeline_name"]
