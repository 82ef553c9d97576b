"""The operations a thread program yields, with their LKMM meaning.

A thread is a Python generator, as in the rest of ctxcheck: it yields one
operation per shared-memory primitive and is sent back the value the
primitive returns (the value read, for anything that reads).  The same
operations serve the litmus interpreter and, later, the kernel models.

Dependencies are stated by the thread, not guessed: ``addr``, ``data`` and
``ctrl`` hold the *operation numbers* (0 for the thread's first yield, 1 for
the next, ...) of the earlier reading operations that the address, the
stored value, or the decision to run this operation at all depend on.  The
litmus interpreter computes them from the C it runs; a hand-written model
names them the way a reviewer would ("this load's address came from that
load").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ctxcheck.lkmm.events import Value

Deps = frozenset[int]
NO_DEPS: Deps = frozenset()

#: Orderings of an RMW, as linux-kernel.def tags them.
RMW_ORDERS = ("mb", "acquire", "release", "once", "noreturn")


@dataclass(frozen=True)
class Op:
    """Fields every operation has: dependencies and where it came from."""

    addr: Deps = field(default=NO_DEPS, kw_only=True)
    ctrl: Deps = field(default=NO_DEPS, kw_only=True)
    label: str = field(default="", kw_only=True)
    line: int = field(default=0, kw_only=True)


@dataclass(frozen=True)
class Load(Op):
    """A read: ``once`` (READ_ONCE, rcu_dereference), ``acquire`` or ``plain``."""

    loc: str
    tag: str = "once"


@dataclass(frozen=True)
class Store(Op):
    """A write: ``once`` (WRITE_ONCE), ``release`` (smp_store_release,
    rcu_assign_pointer) or ``plain``."""

    loc: str
    value: Value
    tag: str = "once"
    data: Deps = field(default=NO_DEPS, kw_only=True)


@dataclass(frozen=True)
class Rmw(Op):
    """An atomic read-modify-write; returns the value read.

    ``update(old)`` is the value written, or None when the RMW does not write
    (a failed cmpxchg: then it is a relaxed read, with no ordering).
    ``order`` is ``mb`` (fully ordered on success: xchg, cmpxchg,
    atomic_*_return), ``acquire``, ``release``, ``once`` (_relaxed) or
    ``noreturn`` (atomic_inc and the other non-value-returning atomics).
    """

    loc: str
    update: Callable[[Value], Value | None]
    order: str = "mb"
    data: Deps = field(default=NO_DEPS, kw_only=True)


@dataclass(frozen=True)
class Fence(Op):
    """smp_mb() and friends, rcu_read_lock/unlock, synchronize_rcu,
    synchronize_srcu (``tag="sync-srcu"`` with ``loc`` its srcu_struct)."""

    tag: str
    loc: str | None = None


@dataclass(frozen=True)
class Lock(Op):
    """spin_lock (``trylock=False``, returns 0) or spin_trylock (returns 1 on
    success, 0 on failure)."""

    loc: str
    trylock: bool = False


@dataclass(frozen=True)
class Unlock(Op):
    """spin_unlock."""

    loc: str


@dataclass(frozen=True)
class IsLocked(Op):
    """spin_is_locked: returns 1 or 0, ordering nothing."""

    loc: str


@dataclass(frozen=True)
class SrcuLock(Op):
    """srcu_read_lock: a read of the srcu_struct; returns the index."""

    loc: str


@dataclass(frozen=True)
class SrcuUnlock(Op):
    """srcu_read_unlock(ss, idx): a write of idx to the srcu_struct; ``data``
    must name the srcu_read_lock the index came from (that is how the bell
    pairs them)."""

    loc: str
    value: Value
    data: Deps = field(default=NO_DEPS, kw_only=True)


AnyOp = Load | Store | Rmw | Fence | Lock | Unlock | IsLocked | SrcuLock | SrcuUnlock
