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


class Cmpxchg(CellOp):
    """``cmpxchg(p, old, new)``: returns the value found; stores if it was old."""

    __slots__ = ("new", "old")
    name = "cmpxchg"

    def __init__(self, cell: Cell, old: Any, new: Any) -> None:
        super().__init__(cell)
        self.old = old
        self.new = new

    def apply(self, cell: Cell) -> Any:
        found = cell._value
        if found is self.old or found == self.old:
            cell._value = self.new
        return found

    def describe(self, result: Any) -> str:
        ok = "ok" if (result is self.old or result == self.old) else "failed"
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


class AtomicInc(AtomicAddReturn):
    """``atomic_inc(v)``."""

    __slots__ = ()
    name = "atomic_inc"

    def __init__(self, cell: Cell) -> None:
        super().__init__(cell, 1)

    def apply(self, cell: Cell) -> Any:
        super().apply(cell)
        return None

    def describe(self, result: Any) -> str:
        return f"atomic_inc({self.cell.name}) -> {describe(self.cell._value)}"


class AtomicDec(AtomicInc):
    """``atomic_dec(v)``."""

    __slots__ = ()
    name = "atomic_dec"

    def __init__(self, cell: Cell) -> None:
        AtomicAddReturn.__init__(self, cell, -1)

    def describe(self, result: Any) -> str:
        return f"atomic_dec({self.cell.name}) -> {describe(self.cell._value)}"


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
    """``atomic_inc_not_zero(v)``: increments unless zero; true if it did."""

    __slots__ = ()
    name = "atomic_inc_not_zero"

    def apply(self, cell: Cell) -> Any:
        if cell._value == 0:
            return False
        cell._value += 1
        return True
