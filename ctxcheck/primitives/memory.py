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
        super().__init__(machine, name, owner)
        self._value = value

    @property
    def value(self) -> Any:
        """The word's value (a read an invariant makes is noted)."""
        reads = self._m.reads
        if reads is not None:
            reads.note(self.oid)
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        self._value = value

    def canonical(self, canon: Canon) -> Any:
        return canon.value(self._value)


class CellOp(Op):
    """An access to one cell."""

    __slots__ = ("cell",)
    access = WRITE

    def __init__(self, cell: Cell) -> None:
        if not isinstance(cell, Cell):
            raise TypeError(f"{self.name} needs a Cell (a struct field), got {cell!r}")
        self.cell = cell

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return access(self.cell, self.access)

    def target(self) -> SharedObject:
        return self.cell

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        check_alive(self.cell, self.name)
        return self.apply(self.cell)

    def apply(self, cell: Cell) -> Any:
        """The effect on the cell; the result returned to the thread."""
        return cell._value


class Load(CellOp):
    """``READ_ONCE(x)`` / a plain load."""

    __slots__ = ()
    name = "load"
    access = READ
    writes = False


class AtomicRead(Load):
    """``atomic_read(v)``."""

    __slots__ = ()
    name = "atomic_read"


class Store(CellOp):
    """``WRITE_ONCE(x, v)`` / a plain store."""

    __slots__ = ("value",)
    name = "store"

    def __init__(self, cell: Cell, value: Any) -> None:
        super().__init__(cell)
        self.value = value

    def apply(self, cell: Cell) -> Any:
        cell._value = self.value
        return None

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.cell.name}, {describe(self.value)})"


class AtomicSet(Store):
    """``atomic_set(v, i)``."""

    __slots__ = ()
    name = "atomic_set"


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
        ok = _matches(self.cell._value, self.old)
        return access(self.cell, WRITE if ok else READ)

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
        return access(self.cell, READ if self.cell._value == 0 else WRITE)

    def apply(self, cell: Cell) -> Any:
        if cell._value == 0:
            return False
        cell._value += 1
        return True
