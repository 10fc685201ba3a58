"""The one exception every command raises for bad arguments or unreadable input (exit 2)."""


class UsageError(Exception):
    """Bad arguments or unreadable input: the command line prints one line and exits 2."""
