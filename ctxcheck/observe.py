"""Which shared objects does an invariant read? Recorded while it runs.

Partial-order reduction may reorder two writes to different objects: the end
state is the same, but the states *between* them differ, and an invariant
checked after every step can fail in one order only. Treating every write as
visible to invariants is sound but defeats the reduction on kernel models,
where most writes touch objects no invariant looks at (a counter's private
fields before it is published, a task reference count). So the runtime
records what invariants actually read, and only writes to those objects are
visible to the explorers (:meth:`ctxcheck.runtime.Execution.visible`); and
it records it per invariant, and per part of an invariant (:func:`part`),
so that only writes seen by one part are ordered against each other.

What has been read is *learnt*: the record is shared by every run of one
search, and an object counts as read from the first state in which some
invariant read it. Object ids are the same in every run
(:meth:`ctxcheck.machine.Machine.register`), so what one run learnt holds
for the next. The explorers prime the record on the initial state. This is
an approximation, stated here because a verdict depends on it: a write to an
object that no invariant has read in any state explored so far is treated as
invisible, and an invariant that would read it only in a state the reduced
search never reaches could be missed. The tests check the reduced search
against an unreduced one on every variant of every perf_counter model at
small bounds (naive, every interleaving, where it finishes; bfs, every
reachable state and every transition out of it, on the three models naive
cannot finish) and on generated programs, and they agree.

Recording works by swapping, for the duration of the invariant checks only,
the attribute descriptors through which a property can see shared state
(a cell's value, a list node's links, a lock's holder, a struct's freed
flag, a CPU's interrupt handler, a thread's IRQ and preemption state) for
ones that note the object's id. The normal execution path pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ctxcheck.machine import CPU, Thread
from ctxcheck.objects import Cell, ListHead, Lock, Struct

T = TypeVar("T")


def _cpu_of(thread: Thread) -> int | None:
    """A task thread's IRQ and preemption state is its CPU's ``exec`` object."""
    return thread.cpu.exec.oid if thread.cpu is not None else None


#: (class, attribute, how to find the id of the object that attribute belongs to)
_WATCHED: tuple[tuple[type, str, Callable[[Any], int | None]], ...] = (
    (Cell, "value", lambda o: o.oid),
    (ListHead, "next", lambda o: o.oid),
    (ListHead, "prev", lambda o: o.oid),
    (Lock, "holder", lambda o: o.oid),
    (Struct, "freed", lambda o: o.oid),
    (CPU, "handler", lambda o: o.exec.oid),
    (Thread, "irqs_off", _cpu_of),
    (Thread, "preempt_count", _cpu_of),
)


def _tracking(slot: Any, oid_of: Callable[[Any], int | None], reads: PropertyReads) -> property:
    """A property that reads ``slot`` and notes the id (the hot path of checks)."""
    sget = slot.__get__
    masks = reads.masks

    def get(self: Any) -> Any:
        oid = oid_of(self)
        if oid is not None:
            bit = reads.bit
            old = masks.get(oid, 0)
            if not old & bit:
                masks[oid] = old | bit
        return sget(self)

    return property(get, slot.__set__)


class PropertyReads:
    """Which invariants have read which objects: object id -> bit mask.

    A bit stands for one invariant of the model, or for one *part* of it
    (:func:`part`: an invariant that is a conjunction over contexts, tasks
    or CPUs says which conjunct it is judging). Reads are noted for the bit
    that is current (the runtime selects the invariant with :meth:`judging`
    before running it), so that a write can be told apart by *which*
    invariants, or parts, observe it: two writes need ordering only when
    one part reads both objects (see :mod:`ctxcheck.explorers.deps`).
    """

    __slots__ = ("_bits", "bit", "masks", "prop")

    def __init__(self) -> None:
        self.masks: dict[int, int] = {}
        self._bits: dict[tuple[int, Hashable], int] = {}
        self.prop = 0
        self.bit = 1

    def bit_of(self, prop: int, key: Hashable = None) -> int:
        """The bit of invariant ``prop`` (``key`` None) or of one of its parts."""
        bit = self._bits.get((prop, key))
        if bit is None:
            bit = self._bits[(prop, key)] = 1 << len(self._bits)
        return bit

    def judging(self, prop: int) -> None:
        """Reads from now on are those of invariant number ``prop``."""
        self.prop = prop
        self.bit = self.bit_of(prop)


#: the record invariants are reading into right now (inside reads_into)
_judging: list[PropertyReads] = []


class part:  # noqa: N801 - used like a function: ``with part(ctx):``
    """Within the block, the invariant being checked judges its conjunct ``key``.

    For an invariant of the form "for every context, ...": wrapping each
    context's check in ``with part(ctx):`` tells the explorers that a write
    seen only by one context's check and a write seen only by another's
    need no ordering between them. ``key`` is a shared object (a struct, a
    cell: it stands for its id, which is the same in every execution), a
    CPU (its name), or a name that is the same in every execution.
    Outside invariant checks (a property called by a test) it does nothing.
    """

    __slots__ = ("key", "saved")

    def __init__(self, key: Hashable) -> None:
        # a shared object by its id, a CPU by its name: both the same in every run
        self.key = getattr(key, "oid", None)
        if self.key is None:
            self.key = getattr(key, "name", key)
        self.saved = 0

    def __enter__(self) -> None:
        if _judging:
            reads = _judging[-1]
            self.saved = reads.bit
            reads.bit = reads.bit_of(reads.prop, self.key)

    def __exit__(self, *exc: object) -> None:
        if _judging:
            _judging[-1].bit = self.saved


def judge_parts(
    items: Iterable[T],
    judge: Callable[[T], str | None],
    key: Callable[[T], Hashable] | None = None,
) -> str | None:
    """The first message ``judge`` gives over ``items``, each judged as its own part.

    The loop of every invariant of the form "for every context (CPU, task),
    ...": each item's check runs in ``with part(...)``, keyed by the item
    itself or by ``key(item)`` (a CPU for a ``(cpu, cpuctx)`` pair).
    """
    for item in items:
        with part(item if key is None else key(item)):
            message = judge(item)
        if message:
            return message
    return None


@contextmanager
def reads_into(reads: PropertyReads) -> Iterator[PropertyReads]:
    """Within the block, every read of watched shared state is noted in ``reads``."""
    saved = []
    for cls, name, oid_of in _WATCHED:
        slot = cls.__dict__[name]
        saved.append((cls, name, slot))
        setattr(cls, name, _tracking(slot, oid_of, reads))
    _judging.append(reads)
    try:
        yield reads
    finally:
        _judging.pop()
        for cls, name, slot in saved:
            setattr(cls, name, slot)
