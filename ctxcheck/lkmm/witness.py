"""Draw an execution in text: one column per thread, the rf source of every
read, each location's coherence order, and the stores a read had not yet
seen (the reordering that made the outcome possible).

A reviewer reads it like a counterexample: the bad outcome, then the events
that produced it, then *why* the LKMM allowed it: which store was not yet
visible to which CPU when it read.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from ctxcheck.lkmm.events import Event, fmt_value
from ctxcheck.lkmm.graph import Graph


def names(graph: Graph) -> dict[int, str]:
    """Short names for events: a, b, c ... in thread order; 'init' for initial writes."""
    letters = list(string.ascii_lowercase) + [f"e{k}" for k in range(26, 1000)]
    out: dict[int, str] = {}
    k = 0
    for tid in graph.tids:
        for i in graph.thread_events(tid):
            out[i] = letters[k]
            k += 1
    for i, e in enumerate(graph.events):
        if e.is_init:
            out[i] = "init"
    return out


def describe(e: Event) -> str:
    """``W[once] x=1`` plus the primitive it came from."""
    text = e.short()
    if e.is_fence and e.tag == "mb" and e.label not in ("smp_mb()", "smp_store_mb()"):
        return f"{text}  (implied by {e.label})"
    if e.label and not e.label.startswith("plain"):
        text += f"  {e.label}"
    return text


def lanes(graph: Graph) -> list[str]:
    """The thread columns, with each read's rf source."""
    nm = names(graph)
    columns: list[list[str]] = []
    for tid in graph.tids:
        col = [f"P{tid}"]
        for i in graph.thread_events(tid):
            e = graph.events[i]
            cell = f"{nm[i]}: {describe(e)}"
            if e.is_read and i in graph.rf:
                cell += f"  <-rf- {nm[graph.rf[i]]}"
            if e.line:
                cell += f"  (line {e.line})"
            col.append(cell)
        columns.append(col)
    width = [max(len(c) for c in col) for col in columns]
    depth = max(len(col) for col in columns)
    rows = []
    for r in range(depth):
        cells = [
            (col[r] if r < len(col) else "").ljust(w) for col, w in zip(columns, width, strict=True)
        ]
        rows.append("  " + " | ".join(cells).rstrip())
    return rows


def coherence(graph: Graph) -> list[str]:
    """Each written location's coherence order, oldest first."""
    nm = names(graph)
    out = []
    for loc in sorted(graph.co):
        order = graph.co[loc]
        if len(order) > 1:
            steps = " -> ".join(f"{nm[w]}({fmt_value(graph.events[w].value or 0)})" for w in order)
            out.append(f"  {loc}: {steps}")
    return out


def stale_reads(graph: Graph) -> list[str]:
    """Reads that missed a store of another thread that coherence puts later."""
    nm = names(graph)
    out = []
    for r, w in sorted(graph.rf.items()):
        er = graph.events[r]
        order = list(graph.co[er.loc or ""])
        later = [x for x in order[order.index(w) + 1 :] if graph.events[x].tid != er.tid]
        for x in later:
            ex = graph.events[x]
            src = "the initial value" if graph.events[w].is_init else f"{nm[w]}"
            out.append(
                f"  {nm[r]} (P{er.tid}) read {er.loc}={fmt_value(er.value or 0)} from {src}: "
                f"{nm[x]} (P{ex.tid}, {ex.loc}={fmt_value(ex.value or 0)}) "
                f"was not yet visible to P{er.tid}"
            )
    return out


def race_lines(graph: Graph, races: Sequence[tuple[int, int]]) -> list[str]:
    """The pairs the data-race flag names, one line each."""
    nm = names(graph)
    out = []
    for a, b in races:
        ea, eb = graph.events[a], graph.events[b]
        out.append(
            f"  {nm[a]} (P{ea.tid}, {ea.short()}) and {nm[b]} (P{eb.tid}, {eb.short()}): "
            "conflicting, one plain, and not ordered"
        )
    return out


def draw(graph: Graph, races: Sequence[tuple[int, int]] = ()) -> str:
    """The whole picture of one execution (and its racing pairs, if given)."""
    parts = lanes(graph)
    co = coherence(graph)
    if co:
        parts += ["", " coherence order (co):", *co]
    stale = stale_reads(graph)
    if stale:
        parts += ["", " not yet visible (what the reordering was):", *stale]
    if races:
        parts += ["", " data races:", *race_lines(graph, races)]
    return "\n".join(parts)
