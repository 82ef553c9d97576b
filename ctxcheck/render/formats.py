"""Dispatch ``ctxcheck render --format F`` to the renderer of that format.

Each renderer is imported only when asked for, so that drawing a text trace
never loads networkx or graphviz.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctxcheck.errors import UsageError

if TYPE_CHECKING:
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
        return data.decode() if fmt == "svg" else data
    raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
