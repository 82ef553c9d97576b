"""Execution graphs: events plus po, rf, co, rmw and dependencies.

This is the object the consistency check judges and the engine will build for
Python models.  It is a plain record: events in a list (initial writes first,
then each thread's events in program order), ``rf`` mapping each read to the
write it reads from, ``co`` giving each location's writes in coherence order
(initial write first), and the syntactic relations the thread's code fixes on
its own: ``rmw`` pairs and address / data / control dependencies.

Every relation the LKMM derives from these (fr, rfe, po-loc, ...) is computed
by :mod:`ctxcheck.lkmm.model`; the graph holds only what a program and a
choice of rf and co determine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ctxcheck.lkmm.events import Event, Kind, Value
from ctxcheck.lkmm.relation import Rel


@dataclass(frozen=True)
class Graph:
    """One candidate execution.

    ``rf[r]`` is the index of the write that read ``r`` reads from;
    ``co[loc]`` lists the indices of loc's writes, initial write first.
    ``rmw``, ``addr``, ``data`` and ``ctrl`` are pairs of event indices.
    """

    events: Sequence[Event]
    rf: Mapping[int, int]
    co: Mapping[str, Sequence[int]]
    rmw: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    addr: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    data: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    ctrl: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    #: cache of the relations that depend only on events, po and dependencies;
    #: graphs that differ only in rf and co may share one (never share it
    #: between graphs with different events)
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n(self) -> int:
        return len(self.events)

    # -- event sets (bit masks) ---------------------------------------------

    def mask(self, pred: Iterable[bool]) -> int:
        out = 0
        for i, hit in enumerate(pred):
            if hit:
                out |= 1 << i
        return out

    def tagged(self, kind: Kind | None, *tags: str) -> int:
        """Events of ``kind`` (any kind when None) whose tag is in ``tags``."""
        return self.mask((kind is None or e.kind is kind) and e.tag in tags for e in self.events)

    @cached_property
    def reads(self) -> int:
        return self.mask(e.kind is Kind.R for e in self.events)

    @cached_property
    def writes(self) -> int:
        return self.mask(e.kind is Kind.W for e in self.events)

    @cached_property
    def init(self) -> int:
        return self.mask(e.is_init for e in self.events)

    # -- base relations -----------------------------------------------------

    @cached_property
    def po(self) -> Rel:
        """Program order: strict, per thread; initial writes are in none."""
        pairs: list[tuple[int, int]] = []
        by_tid: dict[int, list[int]] = {}
        for i, e in enumerate(self.events):
            if e.tid >= 0:
                by_tid.setdefault(e.tid, []).append(i)
        for idxs in by_tid.values():
            idxs.sort(key=lambda i: self.events[i].index)
            pairs.extend((a, b) for k, a in enumerate(idxs) for b in idxs[k + 1 :])
        return Rel.of_pairs(self.n, pairs)

    @cached_property
    def loc(self) -> Rel:
        """Same location (events that have one, fences of synchronize_srcu too)."""
        by_loc: dict[str, int] = {}
        for i, e in enumerate(self.events):
            if e.loc is not None:
                by_loc[e.loc] = by_loc.get(e.loc, 0) | (1 << i)
        rows = [0] * self.n
        for i, e in enumerate(self.events):
            if e.loc is not None:
                rows[i] = by_loc[e.loc]
        return Rel(self.n, rows)

    @cached_property
    def int_(self) -> Rel:
        """``int``: both events by the same thread (initial writes: none)."""
        by_tid: dict[int, int] = {}
        for i, e in enumerate(self.events):
            if e.tid >= 0:
                by_tid[e.tid] = by_tid.get(e.tid, 0) | (1 << i)
        return Rel(self.n, [by_tid.get(e.tid, 0) if e.tid >= 0 else 0 for e in self.events])

    @cached_property
    def ext(self) -> Rel:
        """``ext``: events of different threads (an initial write: every other)."""
        full = (1 << self.n) - 1
        return Rel(self.n, [(full & ~row) & ~(1 << i) for i, row in enumerate(self.int_.rows)])

    @cached_property
    def rf_rel(self) -> Rel:
        return Rel.of_pairs(self.n, ((w, r) for r, w in self.rf.items()))

    @cached_property
    def co_rel(self) -> Rel:
        pairs: list[tuple[int, int]] = []
        for order in self.co.values():
            pairs.extend((a, b) for k, a in enumerate(order) for b in order[k + 1 :])
        return Rel.of_pairs(self.n, pairs)

    @cached_property
    def rmw_rel(self) -> Rel:
        return Rel.of_pairs(self.n, self.rmw)

    # -- results ------------------------------------------------------------

    def final_value(self, loc: str) -> Value:
        """The value of ``loc`` at the end: its co-last write."""
        value = self.events[self.co[loc][-1]].value
        assert value is not None
        return value

    def thread_events(self, tid: int) -> list[int]:
        """The indices of thread ``tid``'s events in program order."""
        return sorted(
            (i for i, e in enumerate(self.events) if e.tid == tid),
            key=lambda i: self.events[i].index,
        )

    @cached_property
    def tids(self) -> list[int]:
        return sorted({e.tid for e in self.events if e.tid >= 0})
