"""A counterexample as a graph: :func:`to_networkx`.

The graph is the public form others build on (the DOT/SVG/PNG pictures are
drawn from it). One node per step; edges for the orders that explain a race:

* ``po`` (program order): each step to the next step of the same thread;
* ``rf`` (reads-from): the last earlier write of an object to a read of it;
* ``ww`` (write order): the last earlier write of an object to a write of it;
* ``fr`` (from-read): a read of an object to the next write that overwrote it;
* ``lock``: a lock release to the next acquisition of that lock;
* ``sync``: a release to a step that waited for it (a thread finishing, to
  whoever joins it).

All but ``po`` are drawn only between different threads (within a thread
they are implied by program order). They come from the footprints the
runtime records for every step, so nothing is inferred from names. Two steps
related in several ways get one edge whose ``kind`` lists the kinds joined by
``+`` (``"rf+ww"``) and whose ``objects`` lists the objects.

networkx is imported only when this function runs: checking never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx  # type: ignore[import-untyped]

    from ctxcheck.result import Violation
    from ctxcheck.runtime import Event
    from ctxcheck.tracefile import TraceFile

#: edge kinds in the order they are listed in a combined ``kind``
EDGE_KINDS = ("po", "rf", "ww", "fr", "lock", "sync")
#: objects the runtime adds to footprints to model who may run where
_INTERNAL_SUFFIXES = (".exec", ".done")


def is_internal(obj: str) -> bool:
    """Whether an object is the runtime's scheduling bookkeeping, not model memory.

    Every step of a task reads its CPU's ``cpuN.exec``; IRQ and preemption
    changes write it; a finishing thread releases ``<thread>.done``. Edges on
    them are kept in the graph (attribute ``internal``) but pictures hide them.
    """
    return obj.endswith(_INTERNAL_SUFFIXES)


@dataclass
class _History:
    """Per object: the last write, the reads since, the last release."""

    last_write: int | None = None
    reads: list[int] = field(default_factory=list)
    last_release: int | None = None


def to_networkx(trace: Violation | TraceFile) -> nx.DiGraph:
    """The counterexample as a ``networkx.DiGraph``.

    ``trace`` is a :class:`ctxcheck.Violation` (from ``ctxcheck.check``) or a
    :class:`ctxcheck.tracefile.TraceFile` (from ``tracefile.load``).

    Nodes are step numbers (1, 2, ...) with the attributes ``step``, ``tid``,
    ``thread``, ``cpu``, ``op``, ``text``, ``object``, ``value``,
    ``function``, ``file``, ``line``, ``cite`` (the followed code's
    ``path:line`` when the model cites it, else None), ``where``
    (``function:line``, the cited line when there is one), ``irqs_off``,
    ``in_irq``, ``preemption`` and ``violating`` (True on the step after which the
    property failed: the last one). Edges have ``kind`` (see the module
    documentation), ``objects`` (list of object names) and ``internal``
    (True when every object is scheduling bookkeeping). Graph attributes:
    ``property``, ``message``, ``violating_step``, and ``model``/``variant``
    when known.
    """
    import networkx as nx

    events = list(trace.events)
    graph = nx.DiGraph()
    graph.graph.update(_graph_attributes(trace, events))
    for e in events:
        graph.add_node(e.step, **_node_attributes(e, len(events)))
    _add_program_order(graph, events)
    _add_conflicts(graph, events)
    return graph


def _graph_attributes(trace: Violation | TraceFile, events: list[Event]) -> dict[str, Any]:
    from ctxcheck.tracefile import TraceFile

    out: dict[str, Any]
    if isinstance(trace, TraceFile):
        out = {k: trace.data.get(k) for k in ("model", "variant", "property", "message")}
    else:
        out = {"property": trace.property, "message": trace.message}
    out["violating_step"] = events[-1].step if events else None
    return out


def _node_attributes(e: Event, last: int) -> dict[str, Any]:
    return {
        "step": e.step,
        "tid": e.tid,
        "thread": e.thread,
        "cpu": e.cpu,
        "op": e.op,
        "text": e.text,
        "object": e.obj,
        "value": e.value,
        "function": e.function,
        "file": e.file,
        "line": e.line,
        "cite": None if e.cite is None else str(e.cite),
        "where": e.where(),
        "irqs_off": e.irqs_off,
        "in_irq": e.in_irq,
        "preemption": e.preemption,
        "violating": e.step == last,
    }


def _add_program_order(graph: nx.DiGraph, events: list[Event]) -> None:
    last: dict[int, int] = {}
    for e in events:
        if e.tid in last:
            _add_edge(graph, last[e.tid], e.step, "po", None)
        last[e.tid] = e.step


def _accesses(e: Event) -> dict[str, str]:
    """One access kind per object; a write subsumes a read of the same object."""
    out: dict[str, str] = {}
    for obj, kind in e.footprint:
        if out.get(obj) in (None, "R"):
            out[obj] = kind
    return out


def _add_conflicts(graph: nx.DiGraph, events: list[Event]) -> None:
    tid = {e.step: e.tid for e in events}
    history: dict[str, _History] = {}
    for e in events:
        for obj, kind in _accesses(e).items():
            h = history.setdefault(obj, _History())
            for src, label in _sources(h, kind):
                if tid[src] != e.tid:
                    _add_edge(graph, src, e.step, label, obj)
            _note(h, kind, e.step)


def _sources(h: _History, kind: str) -> list[tuple[int, str]]:
    """The earlier steps an access of ``kind`` is ordered after, with the edge kind."""
    if kind == "R":
        return [] if h.last_write is None else [(h.last_write, "rf")]
    if kind == "W":
        out = [(r, "fr") for r in h.reads]
        return out + ([] if h.last_write is None else [(h.last_write, "ww")])
    if kind == "ACQ":
        return [] if h.last_release is None else [(h.last_release, "lock")]
    if kind == "WAIT":
        return [] if h.last_release is None else [(h.last_release, "sync")]
    return []


def _note(h: _History, kind: str, step: int) -> None:
    if kind == "R":
        h.reads.append(step)
    elif kind == "W":
        h.last_write, h.reads = step, []
    elif kind == "REL":
        h.last_release = step


def _add_edge(graph: nx.DiGraph, src: int, dst: int, kind: str, obj: str | None) -> None:
    if graph.has_edge(src, dst):
        data = graph.edges[src, dst]
        kinds = set(data["kind"].split("+")) | {kind}
        data["kind"] = "+".join(k for k in EDGE_KINDS if k in kinds)
        if obj is not None and obj not in data["objects"]:
            data["objects"].append(obj)
            data["internal"] = data["internal"] and is_internal(obj)
        return
    objects = [] if obj is None else [obj]
    internal = obj is not None and is_internal(obj)
    graph.add_edge(src, dst, kind=kind, objects=objects, internal=internal)
