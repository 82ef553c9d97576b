"""Words of memory: :class:`Cell` and the loads, stores and atomics on it.

A cell is one machine word: a plain variable, a pointer or an ``atomic_t``.
Its operations are the kernel's: ``READ_ONCE``/plain loads, stores,
``cmpxchg``, ``xchg`` and the ``atomic_*`` family. Every access also reads
the lifetime of the heap struct the cell belongs to, so a free races with
it and an access after the free is a use after free.
"""

from __future__ import annotations

from typing import Any

from ctxcheck.primitives.base import (
    ADD,
    READ,
    WRITE,
    Canon,
    Footprint,
    Op,
    SharedObject,
    StepMachine,
    StepThread,
    access,
    check_alive,
    describe,
)


class Cell(SharedObject):
    """One machine word: a plain variable, a pointer or an ``atomic_t``."""

    __slots__ = ("_value",)

    def __init__(
        self, machine: StepMachine, name: str, value: Any = None, owner: Any = None
    ) -> None:
        # SharedObject.__init__, inlined: a struct makes one cell per field
        self._m = machine
        self.oid = machine.register(self, name)
        self.name = name
        self.owner = owner
        self._value = value
        weak = machine.weak
        if weak is not None and owner is not None:
            weak.new_word(self, value, machine.creator)

    @property
    def value(self) -> Any:
        """The word's value (a read an invariant makes is noted)."""
        reads = self._m.reads
        if reads is not None:  # PropertyReads.note, inlined: the invariants' commonest read
            masks = reads.masks
            old = masks.get(self.oid, 0)
            if not old & reads.bit:
                masks[self.oid] = old | reads.bit
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        self._value = value

    def canonical(self, canon: Canon) -> Any:
        return canon.value(self._value)


class CellOp(Op):
    """An access to one cell.

    Under ``--memory-model lkmm`` (``m.weak`` set) an access to a word of a
    struct is an event of the execution graph (:mod:`ctxcheck.lkmm.engine`):
    ``weak_kind`` says whether it reads, writes or does both atomically,
    ``lkmm_tag`` how it is marked (``plain``, ``once``, ``acquire``,
    ``release``; ``mb`` or ``noreturn`` for an atomic), and its outcomes are
    the writes it may read or the coherence positions it may take.
    """

    __slots__ = ("cell",)
    access = WRITE
    weak_kind = "rmw"
    lkmm_tag = "mb"

    def __init__(self, cell: Cell) -> None:
        if not isinstance(cell, Cell):
            raise TypeError(f"{self.name} needs a Cell (a struct field), got {cell!r}")
        self.cell = cell

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        if m.weak is not None and self.access != READ and self.cell.owner is not None:
            return access(self.cell, WRITE)  # under lkmm no two writes commute
        return access(self.cell, self.access)

    def is_weak(self, m: StepMachine) -> bool:
        """Whether this access is an event of an LKMM graph (see the class docstring)."""
        return m.weak is not None and self.cell.owner is not None

    def target(self) -> SharedObject:
        return self.cell

    def branches(self, m: StepMachine, t: StepThread) -> int:
        weak = m.weak  # the hot path of every explorer: one test under sc
        if weak is not None and self.cell.owner is not None:
            return len(weak.options(self, t))
        return 1

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        check_alive(self.cell, self.name)
        weak = m.weak
        if weak is not None and self.cell.owner is not None:
            return weak.perform(self, t, branch)
        return self.apply(self.cell)

    def apply(self, cell: Cell) -> Any:
        """The effect on the cell; the result returned to the thread."""
        return cell._value

    def wrote(self, old: Any) -> bool:
        """Whether an atomic that read ``old`` wrote (a failed cmpxchg does not)."""
        return True


class Load(CellOp):
    """A plain load: ``x`` in C."""

    __slots__ = ()
    name = "load"
    access = READ
    writes = False
    weak_kind = "read"
    lkmm_tag = "plain"


class ReadOnce(Load):
    """``READ_ONCE(x)``: a marked load."""

    __slots__ = ()
    name = "READ_ONCE"
    lkmm_tag = "once"


class RcuDereference(ReadOnce):
    """``rcu_dereference(p)``: a marked load whose dependents are ordered after it."""

    __slots__ = ()
    name = "rcu_dereference"


class LoadAcquire(Load):
    """``smp_load_acquire(p)``: later accesses are ordered after it."""

    __slots__ = ()
    name = "smp_load_acquire"
    lkmm_tag = "acquire"


class AtomicRead(Load):
    """``atomic_read(v)``."""

    __slots__ = ()
    name = "atomic_read"
    lkmm_tag = "once"


class Store(CellOp):
    """A plain store: ``x = v`` in C."""

    __slots__ = ("value",)
    name = "store"
    weak_kind = "write"
    lkmm_tag = "plain"

    def __init__(self, cell: Cell, value: Any) -> None:
        super().__init__(cell)
        self.value = value

    def apply(self, cell: Cell) -> Any:
        cell._value = self.value
        return None

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.cell.name}, {describe(self.value)})"


class WriteOnce(Store):
    """``WRITE_ONCE(x, v)``: a marked store."""

    __slots__ = ()
    name = "WRITE_ONCE"
    lkmm_tag = "once"


class StoreRelease(Store):
    """``smp_store_release(p, v)``: earlier accesses are ordered before it."""

    __slots__ = ()
    name = "smp_store_release"
    lkmm_tag = "release"


class RcuAssignPointer(StoreRelease):
    """``rcu_assign_pointer(p, v)``: a release store of a pointer."""

    __slots__ = ()
    name = "rcu_assign_pointer"


class AtomicSet(Store):
    """``atomic_set(v, i)``."""

    __slots__ = ()
    name = "atomic_set"
    lkmm_tag = "once"


def _matches(found: Any, expected: Any) -> bool:
    return found is expected or found == expected


class Cmpxchg(CellOp):
    """``cmpxchg(p, old, new)``: returns the value found; stores if it was old.

    A cmpxchg that fails (the cell does not hold ``old``) writes nothing: in
    that state its footprint is a read, so failed attempts of several
    threads commute with each other.
    """

    __slots__ = ("new", "old")
    name = "cmpxchg"

    def __init__(self, cell: Cell, old: Any, new: Any) -> None:
        super().__init__(cell)
        self.old = old
        self.new = new

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        ok = self.is_weak(m) or _matches(self.cell._value, self.old)
        return access(self.cell, WRITE if ok else READ)

    def wrote(self, old: Any) -> bool:
        return _matches(old, self.old)

    def apply(self, cell: Cell) -> Any:
        found = cell._value
        if _matches(found, self.old):
            cell._value = self.new
        return found

    def describe(self, result: Any) -> str:
        ok = "ok" if _matches(result, self.old) else "failed"
        return (
            f"cmpxchg({self.cell.name}, {describe(self.old)}, {describe(self.new)})"
            f" = {describe(result)} [{ok}]"
        )


class Xchg(Store):
    """``xchg(p, new)``: returns the old value."""

    __slots__ = ()
    name = "xchg"
    weak_kind = "rmw"
    lkmm_tag = "mb"

    def apply(self, cell: Cell) -> Any:
        old = cell._value
        cell._value = self.value
        return old

    def describe(self, result: Any) -> str:
        return f"xchg({self.cell.name}, {describe(self.value)}) = {describe(result)}"


class AtomicAddReturn(CellOp):
    """``atomic_add_return(i, v)`` and the inc/dec family built on it."""

    __slots__ = ("delta",)
    name = "atomic_add_return"

    def __init__(self, cell: Cell, delta: int) -> None:
        super().__init__(cell)
        self.delta = delta

    def apply(self, cell: Cell) -> Any:
        cell._value = cell._value + self.delta
        return cell._value

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.cell.name}) -> {describe(result)}"


class AtomicAdd(AtomicAddReturn):
    """``atomic_add(i, v)``: adds, returns nothing.

    The thread does not see the value, so two of these on one word commute
    (access :data:`~ctxcheck.primitives.base.ADD`): the end value is the same
    in either order. They conflict with every access that reads or sets it.
    """

    __slots__ = ()
    name = "atomic_add"
    access = ADD
    lkmm_tag = "noreturn"

    def apply(self, cell: Cell) -> Any:
        super().apply(cell)
        return None

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.cell.name}) -> {describe(self.cell._value)}"


class AtomicSub(AtomicAdd):
    """``atomic_sub(i, v)``."""

    __slots__ = ()
    name = "atomic_sub"

    def __init__(self, cell: Cell, delta: int) -> None:
        super().__init__(cell, -delta)


class AtomicInc(AtomicAdd):
    """``atomic_inc(v)``."""

    __slots__ = ()
    name = "atomic_inc"

    def __init__(self, cell: Cell) -> None:
        super().__init__(cell, 1)


class AtomicDec(AtomicAdd):
    """``atomic_dec(v)``."""

    __slots__ = ()
    name = "atomic_dec"

    def __init__(self, cell: Cell) -> None:
        super().__init__(cell, -1)


class AtomicDecAndTest(AtomicAddReturn):
    """``atomic_dec_and_test(v)``: true when the count reached zero."""

    __slots__ = ()
    name = "atomic_dec_and_test"

    def __init__(self, cell: Cell) -> None:
        super().__init__(cell, -1)

    def apply(self, cell: Cell) -> Any:
        return super().apply(cell) == 0

    def describe(self, result: Any) -> str:
        return f"atomic_dec_and_test({self.cell.name}) -> {self.cell._value} ({describe(result)})"


class AtomicIncNotZero(CellOp):
    """``atomic_inc_not_zero(v)``: increments unless zero; true if it did.

    At zero it changes nothing: its footprint there is a read.
    """

    __slots__ = ()
    name = "atomic_inc_not_zero"

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        if self.is_weak(m):
            return access(self.cell, WRITE)
        return access(self.cell, READ if self.cell._value == 0 else WRITE)

    def wrote(self, old: Any) -> bool:
        return bool(old != 0)

    def apply(self, cell: Cell) -> Any:
        if cell._value == 0:
            return False
        cell._value += 1
        return True


# -- the _relaxed / _acquire / _release forms (linux-kernel.def) -----------------
# Under sequential consistency each is its fully ordered form; under lkmm
# ``lkmm_tag`` gives the read (acquire) or the write (release) its order, and
# none of them has the full barriers of the plain form.


class CmpxchgRelaxed(Cmpxchg):
    """``cmpxchg_relaxed(p, old, new)``: no ordering."""

    __slots__ = ()
    name = "cmpxchg_relaxed"
    lkmm_tag = "once"


class CmpxchgAcquire(Cmpxchg):
    """``cmpxchg_acquire(p, old, new)``: its read, when it succeeds, is an acquire."""

    __slots__ = ()
    name = "cmpxchg_acquire"
    lkmm_tag = "acquire"


class CmpxchgRelease(Cmpxchg):
    """``cmpxchg_release(p, old, new)``: its write is a release."""

    __slots__ = ()
    name = "cmpxchg_release"
    lkmm_tag = "release"


class XchgRelaxed(Xchg):
    """``xchg_relaxed(p, new)``."""

    __slots__ = ()
    name = "xchg_relaxed"
    lkmm_tag = "once"


class XchgAcquire(Xchg):
    """``xchg_acquire(p, new)``."""

    __slots__ = ()
    name = "xchg_acquire"
    lkmm_tag = "acquire"


class XchgRelease(Xchg):
    """``xchg_release(p, new)``."""

    __slots__ = ()
    name = "xchg_release"
    lkmm_tag = "release"


class AtomicAddReturnRelaxed(AtomicAddReturn):
    """``atomic_add_return_relaxed(i, v)``."""

    __slots__ = ()
    name = "atomic_add_return_relaxed"
    lkmm_tag = "once"


class AtomicAddReturnAcquire(AtomicAddReturn):
    """``atomic_add_return_acquire(i, v)``."""

    __slots__ = ()
    name = "atomic_add_return_acquire"
    lkmm_tag = "acquire"


class AtomicAddReturnRelease(AtomicAddReturn):
    """``atomic_add_return_release(i, v)``."""

    __slots__ = ()
    name = "atomic_add_return_release"
    lkmm_tag = "release"
