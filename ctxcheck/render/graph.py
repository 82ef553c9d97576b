"""The counterexample graph drawn by Graphviz: DOT text, SVG or PNG.

Built from :func:`ctxcheck.export.to_networkx`: one box per step in a column
per thread (a Graphviz cluster), program order as plain black arrows, the
cross-thread orders coloured and labelled with their kind and object, the
violating step red and the property's message as the graph's caption. The
runtime's scheduling bookkeeping (CPU ``exec`` objects, thread ``done``
objects) is left out of the picture. The DOT text passes through
:func:`ctxcheck.render.safe.printable` (it comes from a trace file), and a
``dot`` that fails, is killed or runs out of memory is a
:class:`~ctxcheck.errors.RenderError`, never a traceback.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from ctxcheck.errors import RenderError, UsageError
from ctxcheck.render.lanes import ARROWS, BAD_FILL, BAD_STROKE, IN_IRQ_FILL, IRQ_OFF_FILL
from ctxcheck.render.safe import printable

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]

    from ctxcheck.tracefile import TraceFile

FONT = "DejaVu Sans Mono"


def _esc(text: str) -> str:
    """Text for a DOT label: backslashes and quotes kept literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(trace: TraceFile) -> graphviz.Digraph:
    """The trace as a ``graphviz.Digraph``."""
    import graphviz

    from ctxcheck.export import to_networkx

    g = to_networkx(trace)
    d = trace.data
    dot = graphviz.Digraph("counterexample")
    caption = (
        f"{d['model']} [{d['variant']}]: {d['property']} violated after step "
        f"{d['steps']}\\n{_esc(d['message'])}"
    )
    dot.attr(
        rankdir="TB",
        fontname=FONT,
        labelloc="b",
        label=caption,
        fontcolor=BAD_STROKE,
        newrank="true",
        nodesep="0.4",
        ranksep="0.25",
    )
    dot.attr(
        "node", shape="box", style="rounded,filled", fillcolor="white", fontname=FONT, fontsize="10"
    )
    dot.attr("edge", fontname=FONT, fontsize="9")
    _threads(dot, g)
    _edges(dot, g)
    return dot


def _threads(dot: graphviz.Digraph, g: Any) -> None:
    """One cluster per thread; steps ranked by step number so time flows down."""
    threads: dict[int, list[int]] = {}
    for node, data in sorted(g.nodes(data=True)):
        threads.setdefault(data["tid"], []).append(node)
    for tid, nodes in threads.items():
        first = g.nodes[nodes[0]]
        where = f" on {first['cpu']}" if first["cpu"] else ""
        with dot.subgraph(name=f"cluster_{tid}") as sub:
            sub.attr(
                label=_esc(first["thread"] + where),
                style="rounded",
                color="#adb5bd",
                fontcolor="black",
                labelloc="t",
            )
            for node in nodes:
                sub.node(str(node), **_node_style(g.nodes[node]))
    # consecutive steps on consecutive ranks: invisible edges between them
    ordered = sorted(g.nodes)
    for a, b in itertools.pairwise(ordered):
        dot.edge(str(a), str(b), style="invis", weight="0")


def _node_style(data: dict[str, Any]) -> dict[str, str]:
    label = f"{data['step']}. {data['where']}\\n{_esc(data['text'])}"
    style = {"label": label}
    if data["violating"]:
        style.update(fillcolor=BAD_FILL, color=BAD_STROKE, penwidth="2.5", fontcolor=BAD_STROKE)
    elif data["in_irq"]:
        style.update(fillcolor=IN_IRQ_FILL)
    elif data["irqs_off"]:
        style.update(fillcolor=IRQ_OFF_FILL)
    return style


def _edges(dot: graphviz.Digraph, g: Any) -> None:
    for src, dst, data in g.edges(data=True):
        if data["kind"] == "po":
            dot.edge(str(src), str(dst), color="#343a40")
            continue
        if data["internal"]:
            continue
        kind = data["kind"].split("+")[0]
        objs = [o for o in data["objects"] if not o.endswith((".exec", ".done"))]
        label = f"{data['kind']} {', '.join(objs)}".strip()
        dot.edge(
            str(src),
            str(dst),
            label=_esc(label),
            color=ARROWS[kind][0],
            fontcolor=ARROWS[kind][0],
            constraint="false",
            style="bold",
        )


def render_dot(trace: TraceFile) -> str:
    """DOT source text."""
    return printable(str(to_dot(trace).source))


def render_image(trace: TraceFile, fmt: str) -> bytes:
    """SVG or PNG bytes, drawn by Graphviz's ``dot`` program."""
    import graphviz

    source = graphviz.Source(render_dot(trace))
    try:
        data: bytes = source.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise UsageError(
            f"--format {fmt} needs the Graphviz `dot` program, which is not installed; "
            f"install graphviz, or use --format lanes (SVG drawn by ctxcheck) or dot"
        ) from None
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"Graphviz `dot` could not draw --format {fmt}: {_why(exc)}; "
                          f"--format lanes draws without it") from None  # fmt: skip
    except (OSError, MemoryError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise RenderError(f"Graphviz `dot` could not be run for --format {fmt}: {why}") from None
    if not data:
        raise RenderError(f"Graphviz `dot` drew nothing for --format {fmt} (it printed no output)")
    return data


def _why(exc: Any) -> str:
    """What a failed ``dot`` run says: killed (out of memory?) or its first error line."""
    code = exc.returncode
    if code is not None and code < 0:
        return f"it was killed by signal {-code} (out of memory?)"
    err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
    first = next((line.strip() for line in err.splitlines() if line.strip()), "")
    return f"it exited with status {code}" + (f": {printable(first[:200])}" if first else "")
