"""What every primitive is made of: a shared object, the operations on it.

A primitive (a cell, a kernel list, a lock, a CPU, ...) lives in one module of
this package, which holds all there is to know about it: its state (a
:class:`SharedObject` subclass), the operations a thread yields on it (small
:class:`Op` objects, one per atomic step) with their footprints, the rules that
enable or block them, why a blocked one waits, the canonical form of the
state for fingerprints, and the reads a property makes of it.

Threads never change shared state themselves. A thread yields an :class:`Op`;
the runtime asks the op whether it is enabled, which objects it touches (its
*footprint*, used by partial-order reduction) and how many nondeterministic
outcomes it has, then performs it and sends the result back into the
generator. Each op knows its own safety rules: a load through a freed struct
is a use after free, a second ``kfree`` a double free, a ``list_del`` of a
poisoned entry breaks list integrity. These raise
:class:`~ctxcheck.errors.PropertyViolated` with the property's name.

Footprint entries are ``(oid, access)`` with ``access`` one of :data:`READ`,
:data:`WRITE`, :data:`ADD` (a read-modify-write whose result the thread does
not see, like ``atomic_inc``), :data:`ACQUIRE` (taking a lock),
:data:`RELEASE` and :data:`WAIT` (waiting for something another thread
released). Two steps of different threads conflict when they touch one
object and at least one writes, except that two ADDs commute (the end value
is the same in either order, and neither thread sees the one in between);
lock acquisitions conflict with each other; a release/wait pair orders
steps without being a race. A footprint is that of the step in the current
state: a ``cmpxchg`` that will fail there only reads.

The machine and the thread an op acts on are seen through
:class:`StepMachine` and :class:`StepThread`: the part of
:class:`ctxcheck.machine.Machine` and :class:`~ctxcheck.machine.Thread` that
primitives use. The machine is built from primitives (its CPUs, its heap),
so the primitives name it by this interface, not by its class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from ctxcheck.errors import PropertyViolated
from ctxcheck.observe import PropertyReads

READ, WRITE, ACQUIRE, RELEASE, WAIT, ADD = range(6)

Footprint = tuple[tuple[int, int], ...]

#: property names raised by the primitives themselves
MEMORY_SAFETY = "memory_safety"
LIST_INTEGRITY = "list_integrity"
LOCKING = "locking"


class StepCPU(Protocol):
    """A processor as primitives see it (:class:`ctxcheck.primitives.cpu.CPU`)."""

    index: int
    name: str
    exec: SharedObject

    @property
    def handler(self) -> StepThread | None:
        """The interrupt thread inside the CPU, if any."""


class StepThread(Protocol):
    """The running thread as primitives see it (:class:`ctxcheck.machine.Thread`)."""

    tid: int
    name: str
    irq: bool
    in_irq: bool
    rcu_depth: int
    finished: bool
    result: Any
    done: SharedObject
    #: the locks it holds, in the order taken
    held: list[Any]

    @property
    def cpu(self) -> StepCPU | None:
        """The CPU the thread is bound to, if tracked."""

    @property
    def irqs_off(self) -> bool:
        """IRQs disabled on its CPU by this thread."""

    @irqs_off.setter
    def irqs_off(self, value: bool) -> None: ...

    @property
    def preempt_count(self) -> int:
        """Its preemption-disable depth (spinlocks count)."""

    @preempt_count.setter
    def preempt_count(self, value: int) -> None: ...


class StepMachine(Protocol):
    """The machine as primitives see it (:class:`ctxcheck.machine.Machine`)."""

    #: the 1-based number of the step being executed
    step: int
    #: the record an invariant is reading into right now, or None
    reads: PropertyReads | None
    #: the LKMM execution graph of this run under ``--memory-model lkmm``
    #: (a :class:`ctxcheck.lkmm.engine.WeakMemory`), None under SC
    weak: Any
    #: the thread whose step is running (None in setup)
    creator: Any

    @property
    def rcu(self) -> SharedObject:
        """The object every RCU step writes."""

    @property
    def by_oid(self) -> Mapping[int, SharedObject]:
        """Every shared object of the run, by id."""

    @property
    def threads(self) -> Sequence[StepThread]:
        """Every thread, by id."""

    def register(self, obj: SharedObject, name: str) -> int:
        """The id of a new shared object."""

    def struct_seq(self, kind: str) -> int:
        """The next instance number of a struct kind, for its name."""

    def alloc(self, struct: Any, name: str | None = None, **init: Any) -> Any:
        """A heap struct of class ``struct``, tracked until freed."""

    def spawn_thread(self, name: str, func: Callable[..., Any], args: tuple[Any, ...],
                     cpu: Any, task: Any, irq: bool, parent: int) -> StepThread:  # fmt: skip
        """A new thread started by a step of thread ``parent``."""

    def accepts_interrupt(self, cpu: Any, preempt: bool = False) -> bool:
        """Whether an interrupt may enter ``cpu`` now."""

    def running_on(self, cpu: Any) -> StepThread | None:
        """The task thread of ``cpu``'s current task."""


class SharedObject:
    """Anything a footprint can name: a cell, a list node, a lock, a struct.

    ``oid`` names the object the same way in every execution of one search
    (see :class:`ctxcheck.machine.ObjectIds`); ``name`` (``ctx#1.refcount``)
    is for people. ``_m`` is the machine it belongs to, through which the
    reads a property makes are noted (:mod:`ctxcheck.observe`).
    """

    __slots__ = ("_m", "name", "oid", "owner")

    def __init__(self, machine: StepMachine, name: str, owner: Any = None) -> None:
        self._m = machine
        self.oid = machine.register(self, name)
        self.name = name
        #: the struct this object is a field of (its lifetime), if any
        self.owner = owner

    def __repr__(self) -> str:
        return self.name

    def noted(self) -> None:
        """Note a read of this object by the invariant being judged, if any."""
        reads = self._m.reads
        if reads is not None:  # PropertyReads.note, inlined (every noted read comes here)
            masks = reads.masks
            old = masks.get(self.oid, 0)
            if not old & reads.bit:
                masks[self.oid] = old | reads.bit

    def canonical(self, canon: Canon) -> Any:
        """This object's state in canonical form, for fingerprints (None: it has none)."""
        return None


class Canon(Protocol):
    """Canonicalises values for fingerprints (:mod:`ctxcheck.fingerprint`)."""

    def value(self, x: Any) -> Any:
        """The canonical form of one value."""


def check_alive(obj: SharedObject, what: str) -> None:
    """An access through a freed struct is a use after free."""
    owner = obj.owner
    if owner is not None and owner._freed:
        raise PropertyViolated(
            MEMORY_SAFETY,
            f"use after free: {what} {obj.name}, but {owner.name} was freed "
            f"at step {owner.freed_at}",
        )


def access(obj: SharedObject, kind: int) -> Footprint:
    """The footprint of one access: the object, and its heap struct's lifetime (read)."""
    owner = obj.owner
    if owner is not None and owner.heap:
        return ((obj.oid, kind), (owner.oid, READ))
    return ((obj.oid, kind),)


def exec_write(t: StepThread) -> Footprint:
    """A change of who may run on a task thread's CPU (IRQs, preemption, locks)."""
    cpu = t.cpu
    if cpu is not None and not t.irq:
        return ((cpu.exec.oid, WRITE),)
    return ()


class _Poison:
    """LIST_POISON1/2: what ``list_del`` leaves in a deleted entry."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


def describe(value: Any) -> str:
    """Short text for a value in a trace: names for objects, repr otherwise."""
    if value is None:
        return "NULL"
    if isinstance(value, SharedObject | _Poison):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    return repr(value)


class Op:
    """One atomic step. Subclasses override what differs from the defaults."""

    __slots__ = ()
    #: the kernel name of the operation, shown in traces
    name = "op"
    #: False for steps that change no state (invariants need no re-check)
    writes = True
    #: True when :meth:`enabled` may say no (set for every subclass that overrides it)
    blocking = False
    #: True for steps that change whether the machine is quiescent (IRQ, preemption,
    #: lock and interrupt state): quiescent invariants observe them
    quiescence: ClassVar[bool] = False
    #: True for the step that starts a thread (thread ids are creation order)
    creates_thread: ClassVar[bool] = False
    #: True for a step that adds an object invariants may iterate over (``kmalloc``)
    grows_heap: ClassVar[bool] = False
    #: True for an assertion point (``k.judge``, ``k.observe``): what it finds, the
    #: thread may hand to properties in plain model state, which no read notes
    feeds_properties: ClassVar[bool] = False
    #: True for the step an interrupt thread must begin with
    enters_irq: ClassVar[bool] = False
    #: True for a step with no scheduling point of its own (a barrier): the
    #: runtime performs it right after the thread's previous step
    inline: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.blocking = cls.enabled is not Op.enabled

    def __bool__(self) -> bool:
        # ``if k.atomic_dec_and_test(v):`` without ``yield`` tests the step
        # itself (always true): a model bug that must not pass silently
        raise TypeError(
            f"`if k.{self.name}(...)` tests the step, not its result: "
            f"write `if (yield k.{self.name}(...))`"
        )

    def enabled(self, m: StepMachine, t: StepThread) -> bool:
        """Whether the step can be taken now (locks, waits)."""
        return True

    def blocked_why(self, m: StepMachine, t: StepThread) -> tuple[str, StepThread | None]:
        """Why a disabled step waits, and for which thread (for deadlock cycles)."""
        return f"cannot take its step {self.name}", None

    def waits_for(self, mover: StepThread) -> bool:
        """Whether this (blocked) step waits for what ``mover``'s step just took.

        A thread that another's step disabled races with that step
        (:func:`ctxcheck.explorers.deps.disabled_by`), except when it waits
        for a lock the mover has just taken: the race of the two
        acquisitions covers it.
        """
        return False

    def branches(self, m: StepMachine, t: StepThread) -> int:
        """Number of nondeterministic outcomes (1 for an ordinary step)."""
        return 1

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        """Objects touched, for partial-order reduction."""
        return ()

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        """Perform the step and return what the thread receives."""
        return None

    def lkmm(self, weak: Any, t: StepThread, result: Any) -> None:
        """Under ``--memory-model lkmm``: add this step's events to the graph ``weak``.

        Word accesses do so in :meth:`run` (their outcome is a choice of the
        graph); locks, RCU and thread starts override this; the rest (IRQ
        state, lists, the heap) stays sequentially consistent and adds none.
        """

    def target(self) -> SharedObject | None:
        """The main object of the step, for traces and nondeterminism checks."""
        return None

    def describe(self, result: Any) -> str:
        """``name(args) -> result`` for the trace."""
        tgt = self.target()
        args = tgt.name if tgt is not None else ""
        return f"{self.name}({args})" + ("" if result is None else f" = {describe(result)}")

    def signature(self) -> tuple[str, int]:
        """What a replay must see again at this step: (what it is, its object's id or -1).

        The second item is always an object id (or -1), so that a split
        search can name it the same way in every process.
        """
        tgt = self.target()
        return (self.name, -1 if tgt is None else tgt.oid)
