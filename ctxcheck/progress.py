"""Progress of a running check on stderr: a status line on a terminal, plain lines otherwise.

On a terminal the line is redrawn in place (rich). When stderr is a file or
a pipe (``ctxcheck check ... 2>log``, a CI job), a plain line is written
every few seconds instead, so a long run never looks hung::

    ctxcheck: examples.seqcount: 4,210 executions (812/s), 0 blocked, 151,002 steps, 5.2s,
      ~18,600 to go   (one line)

The estimate of what remains is the explorer's (Knuth's estimate over its
current path), shown when it has one. ``$CTXCHECK_PROGRESS_INTERVAL`` sets
the seconds between plain lines (5 by default; anything but a positive finite
number is a usage error, exit status 2); ``--quiet`` silences both.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from ctxcheck.errors import UsageError

#: seconds between plain progress lines when stderr is not a terminal
DEFAULT_INTERVAL = 5.0
INTERVAL_ENV = "CTXCHECK_PROGRESS_INTERVAL"


def interval() -> float:
    """The seconds between plain lines: ``$CTXCHECK_PROGRESS_INTERVAL`` or the default.

    A value that is not a positive finite number is a :class:`UsageError`
    (exit status 2), not a silent 5 s: a user who set it meant something.
    """
    raw = os.environ.get(INTERVAL_ENV)
    if not raw:  # unset or empty (``VAR= ctxcheck ...``)
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise UsageError(
            f"${INTERVAL_ENV} is {shown!r}: it must be a positive finite number of seconds "
            f"between progress lines (e.g. 0.5 or 5; unset, {DEFAULT_INTERVAL:g})"
        )
    return value


def progress_text(label: str, stats: Any) -> str:
    """One progress line: executions and their rate, blocked, steps, time, what remains."""
    rate = stats.executions / stats.seconds if stats.seconds > 0 else 0.0
    text = (
        f"{label}: {stats.executions:,} executions ({rate:,.0f}/s), {stats.blocked:,} blocked, "
        f"{stats.steps:,} steps, {stats.seconds:.1f}s"
    )
    remaining = getattr(stats, "estimate_remaining", None)
    if remaining is not None:
        text += f", ~{remaining:,} to go"
    return text


class PlainProgress:
    """Writes a progress line to ``stream`` at most every ``every`` seconds."""

    def __init__(self, label: str, stream: IO[str], every: float) -> None:
        self.label = label
        self.stream = stream
        self.every = every
        self._next = time.monotonic() + every

    def __call__(self, stats: Any) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every
        try:
            self.stream.write(f"ctxcheck: {progress_text(self.label, stats)}\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or full stderr never stops the search
            pass


@contextmanager
def progress(label: str, quiet: bool = False) -> Iterator[Callable[[Any], None] | None]:
    """The progress hook of one check: None when quiet."""
    if quiet:
        yield None
        return
    every = interval()  # checked on a terminal too: a bad setting is never silent
    if not sys.stderr.isatty():
        yield PlainProgress(label, sys.stderr, every)
        return
    from rich.console import Console
    from rich.status import Status

    status = Status(f"{label}: starting", console=Console(stderr=True))
    status.start()

    def update(stats: Any) -> None:
        status.update(progress_text(label, stats))

    try:
        yield update
    finally:
        status.stop()
