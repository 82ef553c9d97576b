"""Dispatch ``ctxcheck render --format F`` to the renderer of that format.

Each renderer is imported only when asked for, so that drawing a text trace
never loads networkx or graphviz. Every renderer draws the trace with its
strings clipped (:func:`ctxcheck.render.safe.bounded`): a trace file of
megabytes of message draws as fast as any other.
"""

from __future__ import annotations

from ctxcheck.errors import UsageError
from ctxcheck.render.safe import bounded
from ctxcheck.tracefile import TraceFile

#: format -> what it gives
FORMATS = {
    "txt": "plain text, at most 80 columns",
    "dot": "Graphviz DOT source of the event graph",
    "svg": "the event graph drawn by Graphviz, SVG",
    "png": "the event graph drawn by Graphviz, PNG",
    "lanes": "race diagram, one lane per thread, SVG",
}


def render(trace: TraceFile, fmt: str, model_lines: bool = False) -> str | bytes:
    """Render a loaded trace file in format ``fmt`` (text formats as str, PNG as bytes).

    ``model_lines``: the text trace gives the model's own file:line for each
    step instead of the line of the code it follows (``Model.cite``).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    trace = TraceFile(trace.path, bounded(trace.data))
    if fmt == "txt":
        from ctxcheck.render.text import render_trace_file

        return render_trace_file(trace, model_lines)
    if fmt == "lanes":
        from ctxcheck.render.lanes import render_lanes

        return render_lanes(trace)
    if fmt == "dot":
        from ctxcheck.render.graph import render_dot

        return render_dot(trace)
    if fmt in ("svg", "png"):
        from ctxcheck.render.graph import render_image

        data = render_image(trace, fmt)
        return data.decode("utf-8", "replace") if fmt == "svg" else data
    raise AssertionError(fmt)  # every name in FORMATS is handled above
