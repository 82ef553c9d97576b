"""Dispatch ``ctxcheck render --format F`` to the renderer of that format."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctxcheck.errors import UsageError

if TYPE_CHECKING:
    from ctxcheck.tracefile import TraceFile


def render(trace: TraceFile, fmt: str) -> str | bytes:
    """Render a loaded trace file in format ``fmt``."""
    if fmt == "txt":
        from ctxcheck.render.text import render_trace_file

        return render_trace_file(trace)
    raise UsageError(f"format {fmt!r} is not available in this build; use txt")
