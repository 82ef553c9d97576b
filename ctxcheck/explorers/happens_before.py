"""Happens-before of the current execution, for the DPOR explorers.

Vector clocks built from the footprints of the steps (program order,
conflicts, lock release -> acquire, thread spawn, waiting for a thread), and
the *races* of each new step: the earlier steps of other threads it is
dependent with and not ordered after through anything else. ``dpor`` and
``odpor`` both find their races here; they differ in what they do with them.
"""

from __future__ import annotations

from typing import Any

from ctxcheck.explorers.deps import UNIVERSAL
from ctxcheck.primitives.base import ACQUIRE, ADD, READ, RELEASE, WAIT, WRITE, Footprint

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


class _Object:
    """The history of one object: its last write, and the reads and adds since."""

    __slots__ = ("adds", "last_acq", "last_rel", "last_w", "reads")

    def __init__(self) -> None:
        self.last_w = -1
        self.reads: list[int] = []
        #: commuting read-modify-writes since the last write (see deps.conflicting)
        self.adds: list[int] = []
        self.last_acq = -1
        self.last_rel = -1


def normalise(fp: Footprint) -> dict[int, int]:
    """One access kind per object; a write subsumes a read or an add of the same object.

    A read and an add of one object in one step make a write: it conflicts
    with both what a read conflicts with and what an add does.
    """
    out = dict(fp)
    if len(out) == len(fp):  # each object once (nearly every step): nothing to merge
        return out
    out = {}
    for oid, kind in fp:
        old = out.get(oid)
        if old is None or (old in (READ, ADD) and kind == WRITE):
            out[oid] = kind
        elif {old, kind} == {READ, ADD}:
            out[oid] = WRITE
    return out


#: an event's change to one object's history, as little as takes it back:
#: (_NEW, oid, None): the event made the history; (READ or ADD, history, None):
#: it appended its index; (WRITE, history, (last_w, reads, adds)); (ACQUIRE or
#: RELEASE, history, the index before). Changes are taken back last first, so
#: an appended index is the last of its list again when its turn comes.
_Change = tuple[int, Any, Any]
_NEW = -1
#: what an event changed, to take it back: (object changes, thread clocks before)
_Undo = tuple[list[_Change], list[tuple[int, "Clock | None", "int | None"]]]


class Trace:
    """Happens-before bookkeeping for the events of the current execution.

    Each event keeps what it changed in the per-object and per-thread
    history (an undo log), so that going back to an earlier point of the
    execution (:meth:`truncate`, at every backtrack) costs the events taken
    back, not the whole execution again.
    """

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []
        self.objects: dict[int, _Object] = {}
        self.thread_clock: dict[int, Clock] = {}
        self.thread_seq: dict[int, int] = {}
        self._undo: list[_Undo] = []

    def truncate(self, n: int) -> None:
        """Forget events from ``n`` on, taking back what each changed."""
        while len(self.events) > n:
            self.events.pop()
            changed, clocks = self._undo.pop()
            for tid, clock, seq in reversed(clocks):
                if clock is None:
                    self.thread_clock.pop(tid, None)
                else:
                    self.thread_clock[tid] = clock
                if seq is None:
                    self.thread_seq.pop(tid, None)
                elif seq >= 0:
                    self.thread_seq[tid] = seq
            for kind, h, before in reversed(changed):
                if kind == READ:
                    h.reads.pop()
                elif kind == ADD:
                    h.adds.pop()
                elif kind == _NEW:
                    del self.objects[h]
                elif kind == WRITE:
                    h.last_w, h.reads, h.adds = before
                elif kind == ACQUIRE:
                    h.last_acq = before
                else:
                    h.last_rel = before

    def _note(self, idx: int, ev: TraceEvent) -> None:
        clocks: list[tuple[int, Clock | None, int | None]] = [
            (ev.tid, self.thread_clock.get(ev.tid), self.thread_seq.get(ev.tid))
        ]
        changed: list[_Change] = []
        self._undo.append((changed, clocks))
        self.thread_clock[ev.tid] = ev.clock
        self.thread_seq[ev.tid] = ev.seq
        for child in ev.spawns:
            clocks.append((child, self.thread_clock.get(child), -1))
            self.thread_clock[child] = list(ev.clock)
        self._record(idx, ev.fp, changed)

    def also_touched(self, fp: dict[int, int]) -> None:
        """The last event also accessed ``fp``: its real footprint, when it failed.

        A step that ended the run with a violation is committed with a
        footprint dependent with everything, which finds its races but
        records no object history; the steps it left pending are then raced
        with what came before (``commit=False``) and must see that they
        come after it wherever they conflict with what it really touched,
        or they race with what it already ordered them after.
        """
        self._record(len(self.events) - 1, fp, self._undo[-1][0])

    def _record(self, idx: int, fp: dict[int, int], changed: list[_Change]) -> None:
        objs = self.objects
        for oid, kind in fp.items():
            h = objs.get(oid)
            new = h is None
            if h is None:
                h = objs[oid] = _Object()
                changed.append((_NEW, oid, None))  # taking it back drops the whole history
            if kind == READ:
                h.reads.append(idx)
                if not new:
                    changed.append((READ, h, None))
            elif kind == ADD:
                h.adds.append(idx)
                if not new:
                    changed.append((ADD, h, None))
            elif kind == WRITE:
                if not new:
                    changed.append((WRITE, h, (h.last_w, h.reads, h.adds)))
                h.last_w = idx
                h.reads = []
                h.adds = []
            elif kind == ACQUIRE:
                if not new:
                    changed.append((ACQUIRE, h, h.last_acq))
                h.last_acq = idx
            elif kind == RELEASE:
                if not new:
                    changed.append((RELEASE, h, h.last_rel))
                h.last_rel = idx

    def spawned(self, event: TraceEvent, tid: int) -> None:
        """A thread created by a step starts after it (the last event noted)."""
        event.spawns.append(tid)
        if self._undo and self.events and self.events[-1] is event:
            self._undo[-1][1].append((tid, self.thread_clock.get(tid), -1))
        self.thread_clock[tid] = list(event.clock)

    def add(
        self, tid: int, fp: dict[int, int], commit: bool = True
    ) -> tuple[TraceEvent, list[int]]:
        """Append the event; return it and the earlier events it races with.

        With ``commit=False`` the event is only looked at, not appended: the
        races of a step that was pending when a violation cut the run.
        """
        events = self.events
        objects = self.objects
        base = self.thread_clock.get(tid, [])  # read only: the new clock is a copy
        candidates: list[int] = self._last_of_others(tid) if UNIVERSAL in fp else []
        sync: list[int] = []
        acquired: set[int] = set()
        for oid, kind in fp.items():
            h = objects.get(oid)
            if h is None:
                continue
            if kind == READ:
                if h.last_w >= 0:
                    candidates.append(h.last_w)
                candidates.extend(h.adds)
            elif kind == ADD:
                if h.last_w >= 0:
                    candidates.append(h.last_w)
                candidates.extend(h.reads)
            elif kind == WRITE:
                if h.last_w >= 0:
                    candidates.append(h.last_w)
                candidates.extend(h.reads)
                candidates.extend(h.adds)
            elif kind == ACQUIRE:
                if h.last_acq >= 0:
                    candidates.append(h.last_acq)
                    acquired.add(h.last_acq)
                if h.last_rel >= 0:
                    sync.append(h.last_rel)
            elif kind == WAIT and h.last_rel >= 0:
                sync.append(h.last_rel)
        if len(candidates) > 1:
            candidates = sorted(set(candidates))
        # A candidate already ordered before this step (the thread's own
        # earlier steps, and whatever its clock has seen) has its whole clock
        # within ``base``: joining it changes nothing, it races with nothing,
        # and it orders no other candidate that ``base`` does not.
        nbase = len(base)
        cand = []
        for idx in candidates:
            e = events[idx]
            if nbase <= e.tid or base[e.tid] < e.seq:
                cand.append((idx, e))
        clock = list(base)
        for _, e in cand:
            _join(clock, e.clock)
        for idx in sync:
            _join(clock, events[idx].clock)
        seq = self.thread_seq.get(tid, 0) + 1
        if len(clock) <= tid:
            clock.extend([0] * (tid + 1 - len(clock)))
        clock[tid] = seq
        races = []
        held = [(a, events[a].tid) for a in acquired]
        # Only e1's own component of a clock decides whether e1 happens
        # before it, so the join of "everything but this access" is never
        # built: one component is compared per candidate (same answer).
        for idx, e1 in cand:
            t1 = e1.tid
            if t1 == tid or (held and any(t1 == u and idx > a for a, u in held)):
                # a step of the lock's last holder after it took the lock
                # cannot be reversed with this acquisition: the lock was held
                continue
            # Ordered through anything but this access itself? The release
            # that precedes an acquisition does not count: two acquisitions
            # of one lock race even though the first holder released it. Nor
            # does any later step of the first holder (its critical section
            # and release may conflict with this step through the CPU or an
            # invariant): reversing the acquisitions moves them all.
            s1 = e1.seq
            lock = idx in acquired
            for other, e2 in cand:
                if other == idx or (lock and e2.tid == t1 and other > idx):
                    continue
                c = e2.clock
                if len(c) > t1 and c[t1] >= s1:
                    break
            else:
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
