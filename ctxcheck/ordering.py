"""The memory-ordering half of the kernel API: marked accesses, barriers, ordered RMWs.

:class:`~ctxcheck.kernel.Kernel` inherits these. Under sequential
consistency each is what its plain form is (``READ_ONCE`` a load, a barrier
nothing at all: no step); under ``--memory-model lkmm`` each carries the
ordering linux-kernel.def gives it (:mod:`ctxcheck.lkmm.engine`). Kept apart
so the kernel API's main module stays one screenful of primitives a model
uses every day.
"""

from __future__ import annotations

from typing import Any

from ctxcheck.primitives.barriers import Fence
from ctxcheck.primitives.base import Op
from ctxcheck.primitives.memory import (
    AtomicAddReturnAcquire,
    AtomicAddReturnRelaxed,
    AtomicAddReturnRelease,
    Cell,
    CmpxchgAcquire,
    CmpxchgRelaxed,
    CmpxchgRelease,
    LoadAcquire,
    RcuAssignPointer,
    RcuDereference,
    ReadOnce,
    StoreRelease,
    WriteOnce,
    XchgAcquire,
    XchgRelaxed,
    XchgRelease,
)


class MemoryOrdering:
    """Marked accesses, barriers and the _relaxed/_acquire/_release atomics."""

    __slots__ = ()

    def READ_ONCE(self, cell: Cell) -> Op:  # noqa: N802
        """``READ_ONCE(x)``: a marked load (under SC the same as :meth:`load`)."""
        return ReadOnce(cell)

    def WRITE_ONCE(self, cell: Cell, value: Any) -> Op:  # noqa: N802
        """``WRITE_ONCE(x, v)``: a marked store."""
        return WriteOnce(cell, value)

    def smp_load_acquire(self, cell: Cell) -> Op:
        """``smp_load_acquire(p)``: later accesses are ordered after it."""
        return LoadAcquire(cell)

    def smp_store_release(self, cell: Cell, value: Any) -> Op:
        """``smp_store_release(p, v)``: earlier accesses are ordered before it."""
        return StoreRelease(cell, value)

    def rcu_dereference(self, cell: Cell) -> Op:
        """``rcu_dereference(p)``: a marked load of a pointer."""
        return RcuDereference(cell)

    def rcu_assign_pointer(self, cell: Cell, value: Any) -> Op:
        """``rcu_assign_pointer(p, v)``: a release store of a pointer."""
        return RcuAssignPointer(cell, value)

    # -- barriers: no scheduling point; fences under --memory-model lkmm -------
    def smp_mb(self) -> Op:
        """``smp_mb()``: a full barrier."""
        return Fence("smp_mb")

    def smp_wmb(self) -> Op:
        """``smp_wmb()``: orders earlier stores before later stores."""
        return Fence("smp_wmb")

    def smp_rmb(self) -> Op:
        """``smp_rmb()``: orders earlier loads before later loads."""
        return Fence("smp_rmb")

    def smp_mb__before_atomic(self) -> Op:
        """``smp_mb__before_atomic()``: makes the next non-value-returning atomic ordered."""
        return Fence("smp_mb__before_atomic")

    def smp_mb__after_atomic(self) -> Op:
        """``smp_mb__after_atomic()``: makes the previous atomic fully ordered."""
        return Fence("smp_mb__after_atomic")

    def smp_mb__after_spinlock(self) -> Op:
        """``smp_mb__after_spinlock()``: a full barrier after taking a lock."""
        return Fence("smp_mb__after_spinlock")

    def smp_mb__after_unlock_lock(self) -> Op:
        """``smp_mb__after_unlock_lock()``: an unlock and the next lock order as smp_mb."""
        return Fence("smp_mb__after_unlock_lock")

    def barrier(self) -> Op:
        """``barrier()``: a compiler barrier (orders nothing between CPUs)."""
        return Fence("barrier")

    def cmpxchg_relaxed(self, cell: Cell, old: Any, new: Any) -> Op:
        """``cmpxchg_relaxed``: :meth:`cmpxchg` without ordering (under lkmm)."""
        return CmpxchgRelaxed(cell, old, new)

    def cmpxchg_acquire(self, cell: Cell, old: Any, new: Any) -> Op:
        """``cmpxchg_acquire``: a successful one orders later accesses after it."""
        return CmpxchgAcquire(cell, old, new)

    def cmpxchg_release(self, cell: Cell, old: Any, new: Any) -> Op:
        """``cmpxchg_release``: a successful one orders earlier accesses before it."""
        return CmpxchgRelease(cell, old, new)

    def xchg_relaxed(self, cell: Cell, new: Any) -> Op:
        """``xchg_relaxed``: :meth:`xchg` without ordering (under lkmm)."""
        return XchgRelaxed(cell, new)

    def xchg_acquire(self, cell: Cell, new: Any) -> Op:
        """``xchg_acquire``: orders later accesses after it."""
        return XchgAcquire(cell, new)

    def xchg_release(self, cell: Cell, new: Any) -> Op:
        """``xchg_release``: orders earlier accesses before it."""
        return XchgRelease(cell, new)

    def atomic_add_return_relaxed(self, cell: Cell, delta: int) -> Op:
        """``atomic_add_return_relaxed(i, v)``: no ordering (under lkmm)."""
        return AtomicAddReturnRelaxed(cell, delta)

    def atomic_add_return_acquire(self, cell: Cell, delta: int) -> Op:
        """``atomic_add_return_acquire(i, v)``."""
        return AtomicAddReturnAcquire(cell, delta)

    def atomic_add_return_release(self, cell: Cell, delta: int) -> Op:
        """``atomic_add_return_release(i, v)``."""
        return AtomicAddReturnRelease(cell, delta)
