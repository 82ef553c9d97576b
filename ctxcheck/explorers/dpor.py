"""``dpor``: source-DPOR with sleep sets (Abdulla et al., POPL 2014).

Explores at least one execution per Mazurkiewicz trace (equivalence class of
executions that differ only in the order of independent steps), and usually
exactly one. Independence comes from the footprints the operations declare:
two steps of different threads are dependent when they touch one object and
one of them writes (or both take the same lock).

How it works, in the terms of the paper:

* the happens-before relation of the current execution is tracked with
  vector clocks built from the footprints (program order, conflicts,
  lock release -> acquire, thread spawn, waiting for a thread);
* when a new step ``e2`` of thread ``p`` is in a *race* with an earlier step
  ``e1`` (dependent, different threads, and not ordered through anything
  else), the explorer computes ``v``, the steps after ``e1`` that do not
  depend on it followed by ``e2``, and makes sure one of the *initials* of
  ``v`` is in the backtrack set of the state before ``e1``;
* sleep sets stop a thread that was already explored from a state from
  being explored again until something dependent on it happens. A run in
  which every enabled thread is asleep is cut, and counted as ``blocked``.

Nondeterministic choices (``k.choose``, a ``kmalloc`` that may fail) are
always explored with all their outcomes, like a thread with several steps.

Two dependences the footprints do not show are added (see
:mod:`ctxcheck.explorers.deps`): with invariants, writing steps are all
dependent (an invariant observes the states between them); and a step that
ends the execution with a violation is dependent with every step: each
thread that could have moved instead is put in the backtrack set, and a
thread whose step was a violation never sleeps.
"""

from __future__ import annotations

from ctxcheck import ops
from ctxcheck.explorers.base import Explorer
from ctxcheck.explorers.deps import (
    ERROR_FOOTPRINT,
    UNIVERSAL,
    dependent,
    disabled_by,
    has_invariants,
    step_footprint,
    stops_others,
)
from ctxcheck.explorers.naive import check_replay
from ctxcheck.runtime import Execution

Footprint = ops.Footprint
Clock = list[int]


def _join(into: Clock, other: Clock) -> None:
    if len(other) > len(into):
        into.extend([0] * (len(other) - len(into)))
    for i, v in enumerate(other):
        if v > into[i]:
            into[i] = v


class TraceEvent:
    __slots__ = ("clock", "fp", "seq", "spawns", "tid")

    def __init__(self, tid: int, seq: int, fp: dict[int, int], clock: Clock) -> None:
        self.tid = tid
        self.seq = seq
        self.fp = fp
        self.clock = clock
        #: threads this step created; they start after it
        self.spawns: list[int] = []


def happens_before(e: TraceEvent, clock: Clock) -> bool:
    """Does event ``e`` happen before whatever has vector clock ``clock``?"""
    return len(clock) > e.tid and clock[e.tid] >= e.seq


class _Node:
    """A state of the current execution and what is left to explore from it."""

    __slots__ = (
        "backtrack",
        "branch",
        "done",
        "enabled",
        "errors",
        "fps",
        "nbranches",
        "sig",
        "sleep",
        "tid",
    )  # fmt: skip

    def __init__(self, enabled: list[int], fps: dict[int, Footprint],
                 sleep: dict[int, Footprint]) -> None:  # fmt: skip
        self.enabled = enabled
        self.fps = fps
        self.backtrack: set[int] = set()
        self.done: set[int] = set()
        self.sleep = sleep
        self.tid: int | None = None
        self.branch = 0
        self.nbranches = 1
        self.sig: tuple[str, int] | None = None
        #: threads whose step from here ended the run with a violation
        self.errors: set[int] = set()

    def slept(self, tid: int) -> Footprint:
        """The footprint ``tid`` sleeps with once explored from this node."""
        return ERROR_FOOTPRINT if tid in self.errors else self.fps[tid]


class _Object:
    __slots__ = ("last_acq", "last_rel", "last_w", "reads")

    def __init__(self) -> None:
        self.last_w = -1
        self.reads: list[int] = []
        self.last_acq = -1
        self.last_rel = -1


def normalise(fp: Footprint) -> dict[int, int]:
    """One access kind per object; a write subsumes a read of the same object."""
    out: dict[int, int] = {}
    for oid, kind in fp:
        old = out.get(oid)
        if old is None or (old == ops.READ and kind == ops.WRITE):
            out[oid] = kind
    return out


class Trace:
    """Happens-before bookkeeping for the events of the current execution."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []
        self.objects: dict[int, _Object] = {}
        self.thread_clock: dict[int, Clock] = {}
        self.thread_seq: dict[int, int] = {}

    def truncate(self, n: int) -> None:
        """Forget events from ``n`` on and rebuild the per-object history."""
        del self.events[n:]
        self.objects = {}
        self.thread_clock = {}
        self.thread_seq = {}
        for idx, ev in enumerate(self.events):
            self._note(idx, ev)

    def _note(self, idx: int, ev: TraceEvent) -> None:
        self.thread_clock[ev.tid] = ev.clock
        self.thread_seq[ev.tid] = ev.seq
        for child in ev.spawns:
            self.thread_clock[child] = list(ev.clock)
        objs = self.objects
        for oid, kind in ev.fp.items():
            h = objs.get(oid)
            if h is None:
                h = objs[oid] = _Object()
            if kind == ops.READ:
                h.reads.append(idx)
            elif kind == ops.WRITE:
                h.last_w = idx
                h.reads = []
            elif kind == ops.ACQUIRE:
                h.last_acq = idx
            elif kind == ops.RELEASE:
                h.last_rel = idx

    def spawned(self, event: TraceEvent, tid: int) -> None:
        """A thread created by a step starts after it."""
        event.spawns.append(tid)
        self.thread_clock[tid] = list(event.clock)

    def add(
        self, tid: int, fp: dict[int, int], commit: bool = True
    ) -> tuple[TraceEvent, list[int]]:
        """Append the event; return it and the earlier events it races with.

        With ``commit=False`` the event is only looked at, not appended: the
        races of a step that was pending when a violation cut the run.
        """
        events = self.events
        base = list(self.thread_clock.get(tid, []))
        candidates: list[int] = self._last_of_others(tid) if UNIVERSAL in fp else []
        sync: list[int] = []
        acquired: set[int] = set()
        for oid, kind in fp.items():
            h = self.objects.get(oid)
            if h is None:
                continue
            if kind == ops.READ:
                if h.last_w >= 0:
                    candidates.append(h.last_w)
            elif kind == ops.WRITE:
                if h.last_w >= 0:
                    candidates.append(h.last_w)
                candidates.extend(h.reads)
            elif kind == ops.ACQUIRE:
                if h.last_acq >= 0:
                    candidates.append(h.last_acq)
                    acquired.add(h.last_acq)
                if h.last_rel >= 0:
                    sync.append(h.last_rel)
            elif kind == ops.WAIT and h.last_rel >= 0:
                sync.append(h.last_rel)
        candidates = sorted(set(candidates))
        clock = list(base)
        for idx in candidates:
            _join(clock, events[idx].clock)
        for idx in sync:
            _join(clock, events[idx].clock)
        seq = self.thread_seq.get(tid, 0) + 1
        if len(clock) <= tid:
            clock.extend([0] * (tid + 1 - len(clock)))
        clock[tid] = seq
        races = []
        held = [(a, events[a].tid) for a in acquired]
        for idx in candidates:
            e1 = events[idx]
            if e1.tid == tid or any(e1.tid == u and idx > a for a, u in held):
                # a step of the lock's last holder after it took the lock
                # cannot be reversed with this acquisition: the lock was held
                continue
            # Ordered through anything but this access itself? The release
            # that precedes an acquisition does not count: two acquisitions
            # of one lock race even though the first holder released it. Nor
            # does any later step of the first holder (its critical section
            # and release may conflict with this step through the CPU or an
            # invariant): reversing the acquisitions moves them all.
            rest = list(base)
            for other in candidates:
                if other == idx or (
                    idx in acquired and events[other].tid == e1.tid and other > idx
                ):
                    continue
                _join(rest, events[other].clock)
            if not happens_before(e1, rest):
                races.append(idx)
        ev = TraceEvent(tid, seq, fp, clock)
        if commit:
            self._note(len(events), ev)
            events.append(ev)
        return ev, races

    def _last_of_others(self, tid: int) -> list[int]:
        """The last event of every other thread (what a violation races with)."""
        last: dict[int, int] = {}
        for idx, ev in enumerate(self.events):
            if ev.tid != tid:
                last[ev.tid] = idx
        return list(last.values())

    def initials(self, i: int, new: TraceEvent) -> list[int]:
        """Initials of v = (steps after event i not after it) . new."""
        e1 = self.events[i]
        after = self.events[i + 1 :]
        if after and after[-1] is new:
            after.pop()
        v = [ev for ev in after if not happens_before(e1, ev.clock)]
        v.append(new)
        seen: set[int] = set()
        out: list[int] = []
        for j, ev in enumerate(v):
            if ev.tid in seen:
                continue
            seen.add(ev.tid)
            if not any(happens_before(w, ev.clock) for w in v[:j]):
                out.append(ev.tid)
        return out


class DporExplorer(Explorer):
    """Source-DPOR with sleep sets."""

    name = "dpor"

    def search(self) -> bool:
        trace = Trace()
        self._visible = has_invariants(self.model)
        nodes: list[_Node] = []
        first = True
        while True:
            ex = self.execution()
            if first:
                nodes.append(self._new_node(ex, {}, None))
                first = False
            else:
                trace.truncate(len(nodes) - 1)
                for depth, node in enumerate(nodes[:-1]):
                    assert node.tid is not None
                    node.sig = check_replay(ex, node.tid, node.sig, depth)
                    ex.step(node.tid, node.branch)
            blocked = self._extend(ex, nodes, trace)
            self.finish(ex, blocked=blocked)
            if not self._backtrack(nodes):
                return True
            if self.out_of_budget():
                return False

    def _new_node(self, ex: Execution, sleep: dict[int, Footprint], last: int | None) -> _Node:
        enabled = [] if ex.finished else list(ex.enabled())
        fps = {t: step_footprint(ex, t, self._visible, names=False) for t in enabled}
        node = _Node(enabled, fps, {t: fp for t, fp in sleep.items() if t in fps})
        awake = [t for t in enabled if t not in node.sleep]
        if awake:
            pick = last if last in awake else awake[0]
            node.backtrack.add(pick)
            node.tid = pick
        return node

    def _extend(self, ex: Execution, nodes: list[_Node], trace: Trace) -> bool:
        """Run to the end from the last node; True if cut by sleep sets."""
        while True:
            node = nodes[-1]
            if node.tid is None:
                return bool(node.enabled) and not ex.finished
            tid = node.tid
            node.nbranches = ex.branches(tid)
            node.sig = ex.signature(tid)
            fp = node.fps[tid]
            nthreads = len(ex.machine.threads)
            ex.step(tid, node.branch)
            stopped = stops_others(self.model, ex.violation)
            if stopped:
                self._violation_races(node, tid)
            event, races = trace.add(tid, normalise(ERROR_FOOTPRINT if stopped else fp))
            for idx in range(nthreads, len(ex.machine.threads)):
                trace.spawned(event, idx)
            for i in races:
                self._add_backtrack(nodes[i], trace.initials(i, event), tid)
            self._disabling_races(ex, node, tid)
            if stopped:
                self._pending_races(ex, nodes, trace, tid)
            sleep = {
                q: qfp
                for q, qfp in list(node.sleep.items()) + [(d, node.slept(d)) for d in node.done]
                if q != tid and not dependent(qfp, fp)
            }
            nodes.append(self._new_node(ex, sleep, tid))

    def _pending_races(self, ex: Execution, nodes: list[_Node], trace: Trace, tid: int) -> None:
        """Races of the steps the violation left pending (blocked ones too).

        In a run that ends normally every thread's step executes and its
        races are seen; a cut run must look at the steps that never ran.
        """
        for t in ex.machine.threads:
            if t.tid == tid or t.finished or t.pending is None:
                continue
            fp = normalise(step_footprint(ex, t.tid, self._visible, names=False))
            pending, races = trace.add(t.tid, fp, commit=False)
            for i in races:
                self._add_backtrack(nodes[i], trace.initials(i, pending), t.tid)

    @staticmethod
    def _disabling_races(ex: Execution, node: _Node, tid: int) -> None:
        """A step that disables a thread races with that thread's step
        (:func:`~ctxcheck.explorers.deps.disabled_by`): it is tried first, here."""
        node.backtrack.update(disabled_by(ex, node.enabled, tid))

    @staticmethod
    def _violation_races(node: _Node, tid: int) -> None:
        """The step of ``tid`` stopped the run: every other thread races with it."""
        for q in node.enabled:
            if q != tid and q not in node.sleep:
                node.backtrack.add(q)
        node.errors.add(tid)

    @staticmethod
    def _add_backtrack(node: _Node, initials: list[int], p: int) -> None:
        if node.backtrack.intersection(initials):
            return
        q = p if p in initials else initials[0]
        if q in node.fps:
            node.backtrack.add(q)
        else:
            node.backtrack.update(node.enabled)

    @staticmethod
    def _backtrack(nodes: list[_Node]) -> bool:
        """Move to the next unexplored choice; False when there is none."""
        nodes.pop()  # the final state: nothing executed from it
        while nodes:
            node = nodes[-1]
            assert node.tid is not None
            if node.branch + 1 < node.nbranches:
                node.branch += 1
                node.sig = None
                return True
            node.done.add(node.tid)
            todo = sorted(node.backtrack - node.done - node.sleep.keys())
            if todo:
                node.tid = todo[0]
                node.branch = 0
                node.sig = None
                return True
            nodes.pop()
        return False
