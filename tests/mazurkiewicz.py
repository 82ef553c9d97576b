"""Count Mazurkiewicz traces from the naive explorer's executions.

The oracle for "explores exactly one execution per trace": run ``naive``
(every schedule), then group its executions by their happens-before
relation. Two executions are the same trace when they consist of the same
events and order every dependent pair the same way; each class is named by
its canonical linearisation, the lexicographically least order of its
events that respects the happens-before relation.

Events and objects get names that do not depend on the schedule: a thread
created by setup keeps its tid, a spawned thread is named after the event
that spawned it, an object created by a step (kmalloc, spawn) after that
step and its rank among the objects the step created. An event is its
thread, its index in the thread, the outcome taken and its footprint over
those names. Dependence is the one the explorers use
(:mod:`ctxcheck.explorers.deps`): conflicting footprints, program order,
spawn before the spawned thread's steps, writes observed by invariants, and
a violating step dependent with everything.

This is independent of the reducing explorers: it only replays schedules
the naive explorer ran and never decides what to explore.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace

from ctxcheck.explorers.base import Outcome
from ctxcheck.explorers.deps import (
    CREATE,
    ERROR_FOOTPRINT,
    dependent,
    has_invariants,
    step_footprint,
    stops_others,
)
from ctxcheck.explorers.naive import NaiveExplorer
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.primitives.base import Footprint
from ctxcheck.runtime import Execution, SearchState


@dataclass(frozen=True)
class Event:
    """A step named independently of the schedule that ran it."""

    thread: str
    seq: int
    branch: int
    footprint: tuple[tuple[str, int], ...]
    #: threads this step created (they start after it)
    spawned: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, int]:
        return (self.thread, self.seq)


@dataclass(frozen=True)
class TraceCount:
    """Traces among the naive executions."""

    traces: int
    executions: int
    #: traces when the order of spawns does not count either (the equivalence
    #: dpor uses; ``traces`` is odpor's: spawns ordered, allocations not)
    coarse: int = 0


class _NamingExecution(Execution):
    """An execution that names each step it takes, as :class:`Event` values."""

    def __init__(
        self, model: Model, config: Config, max_steps: int | None, search: SearchState
    ) -> None:
        super().__init__(model, config, max_steps, search=search)
        self.observing = has_invariants(model)
        self.names = {t.tid: str(t.tid) for t in self.machine.threads}
        self.objects = {o.oid: str(i) for i, o in enumerate(self.machine.objects)}
        self.seqs: dict[str, int] = {}
        self.named: list[Event] = []

    def step(self, tid: int, branch: int = 0) -> None:
        fp = step_footprint(self, tid, self.observing)
        m = self.machine
        nobj, nthr = len(m.objects), len(m.threads)
        super().step(tid, branch)
        name = self.names[tid]
        seq = self.seqs[name] = self.seqs.get(name, 0) + 1
        for i, obj in enumerate(m.objects[nobj:]):
            self.objects[obj.oid] = f"{name}/{seq}/{i}"
        spawned = []
        for new in range(nthr, len(m.threads)):
            self.names[new] = f"{name}.{seq}.{new - nthr}"
            spawned.append(self.names[new])
        if stops_others(self.model, self.violation):
            fp = ERROR_FOOTPRINT
        objs = self.objects
        named = tuple(sorted({(objs.get(oid, str(oid)), kind) for oid, kind in fp}))
        self.named.append(Event(name, seq, branch, named, tuple(spawned)))


class _Recording(NaiveExplorer):
    """The naive explorer, keeping the named events of every execution."""

    runs: list[list[Event]]

    def execution(self) -> Execution:
        state = self.search_state
        return state.prime(
            _NamingExecution(self.model, self.config, self.bounds.max_steps, search=state)
        )

    def finish(self, ex: Execution, blocked: bool = False) -> None:
        assert isinstance(ex, _NamingExecution)
        self.runs.append(ex.named)
        super().finish(ex, blocked)


def naive_runs(model: Model, config: Config) -> tuple[Outcome, list[list[Event]]]:
    """The naive explorer's outcome and the named events of every execution it ran."""
    explorer = _Recording(model, config, Bounds(max_steps=model.max_steps))
    explorer.runs = []
    outcome = explorer.run()
    assert outcome.exhaustive
    return outcome, explorer.runs


def _raw(e: Event) -> Footprint:
    """Footprint with names as hashable ids (pseudo-objects keep their number)."""
    return tuple((_oid(name), kind) for name, kind in e.footprint)


def _oid(name: str) -> int | str:
    try:
        value = int(name)
    except ValueError:
        return name
    return value if value < 0 else name


def without_creation_order(events: list[Event]) -> list[Event]:
    """The events as ``dpor`` relates them: spawn steps do not write ``CREATE``.

    Objects and threads here are named by their creator, so two creations in
    other threads commute once the pseudo-object is gone.
    """
    create = str(CREATE)
    return [replace(e, footprint=tuple(f for f in e.footprint if f[0] != create)) for e in events]


def canonical(events: list[Event]) -> tuple[Event, ...]:
    """The least linearisation of the happens-before order of ``events``."""
    n = len(events)
    raw = [_raw(e) for e in events]
    succs: list[list[int]] = [[] for _ in range(n)]
    waiting = [0] * n
    for j in range(n):
        for i in range(j):
            a, b = events[i], events[j]
            if a.thread == b.thread or b.thread in a.spawned or dependent(raw[i], raw[j]):
                succs[i].append(j)
                waiting[j] += 1
    ready = [(events[j].key, j) for j in range(n) if not waiting[j]]
    heapq.heapify(ready)
    order: list[Event] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(events[i])
        for j in succs[i]:
            waiting[j] -= 1
            if not waiting[j]:
                heapq.heappush(ready, (events[j].key, j))
    return tuple(order)


def count_traces(model: Model, config: Config | None = None) -> TraceCount:
    """How many Mazurkiewicz traces the naive executions of a model fall into."""
    return naive_and_traces(model, config)[1]


def naive_and_traces(model: Model, config: Config | None = None) -> tuple[Outcome, TraceCount]:
    """The naive explorer's outcome, and the traces its executions fall into.

    One naive run serves both as the oracle for the verdict and as the
    source of the count, which halves the cost of a differential example.
    """
    config = config or model.config(None, {})
    outcome, runs = naive_runs(model, config)
    traces = len({canonical(run) for run in runs})
    coarse = len({canonical(without_creation_order(run)) for run in runs})
    return outcome, TraceCount(traces, len(runs), coarse)
