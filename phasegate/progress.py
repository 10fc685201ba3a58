"""Progress on long work, on a terminal only: a scan of many files says how far it is.

On anything but a TTY (CI logs, pipes, files) nothing is written, so output
that tools read never changes. Standard library only; the clock is injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

Report = Callable[[int, int], None]  # done, total
MIN_TOTAL = 200  # fewer files than this finish before a line would help
INTERVAL = 0.1  # seconds between two updates of the line


def on_terminal(stream: TextIO | None, label: str, *,
                clock: Callable[[], float] = time.monotonic) -> Report | None:
    """A reporter that rewrites one line of ``stream`` when it is a TTY, else None."""
    if stream is None or not _is_tty(stream):
        return None
    last = [float("-inf")]

    def report(done: int, total: int) -> None:
        if total < MIN_TOTAL:
            return
        now = clock()
        if done < total and now - last[0] < INTERVAL:
            return
        last[0] = now
        end = "\r\033[K" if done >= total else ""  # the finished line is cleared
        stream.write(f"\r{label}: {done}/{total} files{end}" if done < total else end)
        stream.flush()

    return report


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or odd stream: no progress
        return False
