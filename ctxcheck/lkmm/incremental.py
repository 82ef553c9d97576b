"""The small interface the engine will use to run Python models under the LKMM.

A model under ``--memory-model lkmm`` cannot simply be run schedule by
schedule: a read may return a value that, under SC, no schedule gives it.
The engine will instead grow an execution graph one event at a time (as
GenMC does) and ask two questions of it:

- :func:`may_read_from`: given the graph so far, which writes may this new
  read read from?
- :func:`co_positions`: where in its location's coherence order may this new
  write go?

and, on a complete graph, :func:`judge` (is it LKMM-consistent, and which
flags, e.g. ``data-race``, does it raise?).

Both questions are answered by trying each choice and judging the graph
with it.  That is sound for pruning because every consistency axiom of the
LKMM is *monotone*: adding an event at the end of a thread, an rf edge or a
co edge only ever adds pairs to the relations the axioms forbid cycles in
(no axiom relies on the absence of an edge).  So a choice rejected now stays
rejected in every extension of the graph; a choice accepted now may still be
ruled out by events not yet added, which the final :func:`judge` settles.
"""

from __future__ import annotations

from dataclasses import replace

from ctxcheck.lkmm.graph import Graph
from ctxcheck.lkmm.judgement import Judgement
from ctxcheck.lkmm.model import Lkmm


def judge(graph: Graph) -> Judgement:
    """The LKMM's judgement of a complete graph: failed axiom, or the flags."""
    return Lkmm(graph).check()


def is_consistent(graph: Graph) -> bool:
    """Whether ``graph`` (complete or partial) violates no LKMM axiom."""
    return Lkmm(graph).check(flags=False).consistent


def may_read_from(graph: Graph, read: int) -> list[int]:
    """The writes that ``read`` (an event of ``graph`` not yet in ``graph.rf``)
    may read from: same location, same value when the read's value is fixed,
    and consistent with the graph so far."""
    r = graph.events[read]
    if not r.is_read or read in graph.rf:
        raise ValueError(f"event {read} is not a read waiting for its rf edge")
    out = []
    for w in graph.co.get(r.loc or "", ()):
        ew = graph.events[w]
        if r.value is not None and ew.value != r.value:
            continue
        rf = dict(graph.rf)
        rf[read] = w
        if is_consistent(replace(graph, rf=rf)):
            out.append(w)
    return out


def co_positions(graph: Graph, write: int) -> list[int]:
    """The positions (1 = just after the initial write) where ``write``, an
    event of ``graph`` not yet in its location's coherence order, may go."""
    w = graph.events[write]
    order = list(graph.co.get(w.loc or "", ()))
    if not w.is_write or write in order:
        raise ValueError(f"event {write} is not a write waiting for its co position")
    out = []
    for pos in range(1, len(order) + 1):
        co = dict(graph.co)
        co[w.loc or ""] = (*order[:pos], write, *order[pos:])
        if is_consistent(replace(graph, co=co)):
            out.append(pos)
    return out
