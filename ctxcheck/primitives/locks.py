"""Spinlocks and mutexes: who holds them, taking and releasing them.

A waiting thread is blocked, not spinning through steps: an acquisition is
enabled only while the lock is free (or, to report an AA deadlock, held by
the taker). Two acquisitions of one lock race; a release orders the next
acquisition without racing with it. A spinlock disables preemption while
held; a mutex sleeps, so taking one with IRQs off is a locking violation.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ctxcheck.errors import PropertyViolated
from ctxcheck.primitives.base import (
    ACQUIRE,
    LOCKING,
    RELEASE,
    Canon,
    Footprint,
    Op,
    SharedObject,
    StepMachine,
    StepThread,
    access,
    check_alive,
    describe,
    exec_write,
)
from ctxcheck.primitives.heap import FieldSpec


class Lock(SharedObject):
    """Common state of spinlocks and mutexes: who holds it."""

    __slots__ = ("_holder",)
    kind: ClassVar[str] = "lock"

    def __init__(self, machine: StepMachine, name: str, owner: Any = None) -> None:
        super().__init__(machine, name, owner)
        self._holder: StepThread | None = None

    @property
    def holder(self) -> StepThread | None:
        """The thread holding the lock, or None (a read an invariant makes is noted)."""
        self.noted()
        return self._holder

    def canonical(self, canon: Canon) -> Any:
        return -1 if self._holder is None else self._holder.tid


class Spinlock(Lock):
    """A ``spinlock_t``. Waiting threads are blocked, not spinning steps."""

    __slots__ = ()
    kind = "spinlock"


class Mutex(Lock):
    """A ``struct mutex``: sleeping lock, never taken with IRQs off."""

    __slots__ = ()
    kind = "mutex"


def spinlock() -> Any:
    """An embedded ``spinlock_t``, unlocked."""
    return FieldSpec(Spinlock)


def mutex() -> Any:
    """An embedded ``struct mutex``, unlocked."""
    return FieldSpec(Mutex)


class LockOp(Op):
    """Taking or releasing a spinlock or mutex."""

    __slots__ = ("lock",)
    quiescence = True

    def __init__(self, lock: Lock) -> None:
        if not isinstance(lock, Lock):
            raise TypeError(f"{self.name} needs a lock, got {lock!r}")
        self.lock = lock

    def target(self) -> SharedObject:
        return self.lock


class Acquire(LockOp):
    """``spin_lock``/``mutex_lock``: blocks while another thread holds it."""

    __slots__ = ()
    name = "spin_lock"

    def enabled(self, m: StepMachine, t: StepThread) -> bool:
        holder = self.lock._holder
        return holder is None or holder is t

    def blocked_why(self, m: StepMachine, t: StepThread) -> tuple[str, StepThread | None]:
        holder = self.lock._holder
        return f"waits for {self.lock.name} held by {describe(holder)}", holder

    def waits_for(self, mover: StepThread) -> bool:
        return self.lock._holder is mover

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return access(self.lock, ACQUIRE) + exec_write(t)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        check_alive(self.lock, self.name)
        lock = self.lock
        if lock._holder is t:
            raise PropertyViolated(
                "deadlock", f"{t.name} takes {lock.name}, which it already holds (AA deadlock)"
            )
        if isinstance(lock, Mutex):
            if t.irqs_off or t.in_irq:
                raise PropertyViolated(
                    LOCKING, f"mutex_lock({lock.name}) with IRQs off: sleeping in atomic context"
                )
        else:
            t.preempt_count += 1
        lock._holder = t
        t.held.append(lock)

    def lkmm(self, weak: Any, t: StepThread, result: Any) -> None:
        weak.lock(t, self.lock, self.name)


class MutexLock(Acquire):
    """``mutex_lock(m)``."""

    __slots__ = ()
    name = "mutex_lock"


class Release(LockOp):
    """``spin_unlock``/``mutex_unlock``."""

    __slots__ = ()
    name = "spin_unlock"

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return access(self.lock, RELEASE) + exec_write(t)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        check_alive(self.lock, self.name)
        lock = self.lock
        if lock._holder is not t:
            holder = "nobody" if lock._holder is None else lock._holder.name
            raise PropertyViolated(LOCKING, f"{t.name} releases {lock.name}, held by {holder}")
        lock._holder = None
        t.held.remove(lock)
        if not isinstance(lock, Mutex):
            t.preempt_count -= 1

    def lkmm(self, weak: Any, t: StepThread, result: Any) -> None:
        weak.unlock(t, self.lock, self.name)


class MutexUnlock(Release):
    """``mutex_unlock(m)``."""

    __slots__ = ()
    name = "mutex_unlock"
