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

What has been read is *learnt*: the record belongs to one search (its
:class:`~ctxcheck.search.SearchState`) and is shared by every run of it,
and an object counts as read from the first state in which some invariant
read it. Object ids are the same in every run of one search
(:class:`~ctxcheck.machine.ObjectIds`), so what one run learnt holds for
the next. The explorers prime the record on the initial state. This is an
approximation, stated here because a verdict depends on it: a write to an
object that no invariant has read in any state explored so far is treated as
invisible, and an invariant that would read it only in a state the reduced
search never reaches could be missed. The tests check the reduced search
against an unreduced one on every variant of every perf_counter model at
small bounds (naive, every interleaving, where it finishes; bfs, every
reachable state and every transition out of it, on the three models naive
cannot finish) and on generated programs, and they agree.

How reads are seen: every primitive's state that a property can look at
(a cell's value, a list node's links, a lock's holder, a struct's freed
flag, a CPU's interrupt handler, a thread's IRQ and preemption state) is
read through a property of its class that notes the object's id in the
record its machine is filling right now (``machine.reads``), and costs one
test of ``None`` otherwise. The engine itself reads the raw slots. Nothing
here is global: the record is the search's, the machine is the run's, and
the record currently judging (for :func:`part`) is a context variable, so
two checks can run side by side in one process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


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

    __slots__ = ("_bits", "bit", "inner", "masks", "open", "prop", "props", "seen")

    def __init__(self) -> None:
        self.masks: dict[int, int] = {}
        self._bits: dict[tuple[int, Hashable], int] = {}
        #: invariant number -> the bits of it and of all its parts
        self.props: dict[int, int] = {}
        #: a part's bit -> its bit and those of the parts judged inside it
        self.inner: dict[int, int] = {}
        #: the bits of the parts being judged, outermost first
        self.open: list[int] = []
        #: bits the step being judged may have changed, -1 all (see judge_parts)
        self.seen = -1
        self.prop = 0
        self.bit = 1

    def bit_of(self, prop: int, key: Hashable = None) -> int:
        """The bit of invariant ``prop`` (``key`` None) or of one of its parts."""
        bit = self._bits.get((prop, key))
        if bit is None:
            bit = self._bits[(prop, key)] = 1 << len(self._bits)
            self.props[prop] = self.props.get(prop, 0) | bit
        return bit

    def judging(self, prop: int, seen: int = -1) -> None:
        """Reads from now on are those of invariant number ``prop``.

        ``seen``: the bits the last step may have changed (-1: all). When
        the invariant's own bit is not among them, only its parts whose
        reads changed are judged again (:func:`judge_parts`).
        """
        self.prop = prop
        self.bit = self.bit_of(prop)
        self.seen = -1 if seen & self.bit else seen

    def unchanged(self, prop: int, key: Hashable) -> bool:
        """Whether part ``key`` of ``prop`` was judged and read nothing the step changed."""
        if self.seen == -1:
            return False
        bit = self._bits.get((prop, key))
        return bit is not None and not self.inner.get(bit, bit) & self.seen

    def export(
        self, key_of: Callable[[int], Hashable]
    ) -> list[tuple[int, Hashable, list[Hashable]]]:
        """What was learnt, by stable keys: (invariant, part, objects it read).

        Object ids are a search's own; ``key_of`` names an object the same
        way in every process, so that searches split over processes can
        share what their invariants read (:meth:`learn`).
        """
        out = []
        for (prop, part_key), bit in self._bits.items():
            if isinstance(part_key, tuple) and part_key[:1] == ("oid",):
                part_key = ("oid", key_of(part_key[1]))
            read = [key_of(oid) for oid, mask in self.masks.items() if mask & bit]
            out.append((prop, part_key, read))
        return out

    def learn(
        self,
        learnt: list[tuple[int, Hashable, list[Hashable]]],
        id_of: Callable[[Any], int],
    ) -> None:
        """Add what another search learnt (:meth:`export`), ``id_of`` naming its objects here."""
        for prop, part_key, read in learnt:
            if isinstance(part_key, tuple) and part_key[:1] == ("oid",):
                part_key = ("oid", id_of(part_key[1]))
            bit = self.bit_of(prop, part_key)
            for key in read:
                oid = id_of(key)
                self.masks[oid] = self.masks.get(oid, 0) | bit

    def note(self, oid: int) -> None:
        """The current invariant (part) has read object ``oid``."""
        masks = self.masks
        bit = self.bit
        old = masks.get(oid, 0)
        if not old & bit:
            masks[oid] = old | bit


class Recording(Protocol):
    """What a record is filled through: the machine of the run being judged."""

    reads: PropertyReads | None


#: the record invariants are reading into right now (inside reads_into), per context
_judging: ContextVar[PropertyReads | None] = ContextVar("ctxcheck_judging", default=None)


class part:  # noqa: N801 - used like a function: ``with part(ctx):``
    """Within the block, the invariant being checked judges its conjunct ``key``.

    For an invariant of the form "for every context, ...": wrapping each
    context's check in ``with part(ctx):`` tells the explorers that a write
    seen only by one context's check and a write seen only by another's
    need no ordering between them. ``key`` is a shared object (a struct, a
    cell: it stands for its id, which is the same in every execution of a
    search), a CPU (its name), or a name that is the same in every
    execution. Outside invariant checks (a property called by a test) it
    does nothing.
    """

    __slots__ = ("key", "saved")

    def __init__(self, key: Hashable) -> None:
        self.key: Hashable = part_key(key)
        self.saved = 0

    def __enter__(self) -> None:
        reads = _judging.get()
        if reads is not None:
            self.saved = reads.bit
            bit = reads.bit = reads.bit_of(reads.prop, self.key)
            inner = reads.inner
            for outer in reads.open:  # a part judged inside another is part of it
                inner[outer] = inner.get(outer, outer) | bit
            reads.open.append(bit)

    def __exit__(self, *exc: object) -> None:
        reads = _judging.get()
        if reads is not None:
            reads.open.pop()
            reads.bit = self.saved


def part_key(key: Hashable) -> Hashable:
    """How a part is named in every run: a shared object by its id, a CPU by its name."""
    oid = getattr(key, "oid", None)
    return ("oid", oid) if oid is not None else getattr(key, "name", key)


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
    reads = _judging.get()
    if reads is None:  # not inside an invariant check: no parts to note or skip
        for item in items:
            message = judge(item)
            if message:
                return message
        return None
    # What ``unchanged`` and ``with part(...)`` do, inlined: this loop runs
    # for every part of every invariant after every writing step.
    prop = reads.prop
    seen = reads.seen
    bits = reads._bits
    inner = reads.inner
    opened = reads.open
    for item in items:
        name = item if key is None else key(item)
        oid = getattr(name, "oid", None)  # part_key, inlined
        pk = ("oid", oid) if oid is not None else getattr(name, "name", name)
        bit = bits.get((prop, pk))
        # a part that passed when last judged and read nothing the step
        # wrote passes again: it would read the same values
        if seen != -1 and bit is not None and not inner.get(bit, bit) & seen:
            continue
        if bit is None:
            bit = reads.bit_of(prop, pk)
        saved = reads.bit
        reads.bit = bit
        for outer in opened:  # a part judged inside another is part of it
            inner[outer] = inner.get(outer, outer) | bit
        opened.append(bit)
        try:
            message = judge(item)
        finally:
            opened.pop()
            reads.bit = saved
        if message:
            return message
    return None


class reads_into:  # noqa: N801 - used like a function: ``with reads_into(r, m):``
    """Within the block, every read of ``machine``'s watched state is noted in ``reads``.

    A class, not a ``@contextmanager`` generator: it is entered around the
    invariants after every writing step, where the generator's set-up cost
    showed in the profile.
    """

    __slots__ = ("machine", "reads", "saved", "token")

    def __init__(self, reads: PropertyReads, machine: Recording) -> None:
        self.reads = reads
        self.machine = machine

    def __enter__(self) -> PropertyReads:
        machine = self.machine
        self.saved = machine.reads
        machine.reads = self.reads
        self.token = _judging.set(self.reads)
        return self.reads

    def __exit__(self, *exc: object) -> None:
        _judging.reset(self.token)
        self.machine.reads = self.saved
