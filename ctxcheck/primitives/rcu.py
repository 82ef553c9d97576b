"""RCU: read-side critical sections and grace periods.

A grace period (``synchronize_rcu``, and the wait before a ``call_rcu``
callback runs) can end only when no thread is inside a read-side section.
Every RCU step writes the machine's ``rcu`` object, so entering a section
and ending a grace period are ordered against each other.
"""

from __future__ import annotations

from typing import Any

from ctxcheck.primitives.base import (
    WRITE,
    Footprint,
    Op,
    StepMachine,
    StepThread,
)


class RcuReadLock(Op):
    """``rcu_read_lock()``: holds off grace periods."""

    __slots__ = ()
    name = "rcu_read_lock"

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return ((m.rcu.oid, WRITE),)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        t.rcu_depth += 1

    def lkmm(self, weak: Any, t: StepThread, result: Any) -> None:
        weak.fence(t, "rcu-lock", self.name)


class RcuReadUnlock(RcuReadLock):
    """``rcu_read_unlock()``."""

    __slots__ = ()
    name = "rcu_read_unlock"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        t.rcu_depth -= 1

    def lkmm(self, weak: Any, t: StepThread, result: Any) -> None:
        weak.fence(t, "rcu-unlock", self.name)


class RcuGracePeriod(RcuReadLock):
    """The end of a grace period: no thread is inside a read-side section."""

    __slots__ = ()
    name = "synchronize_rcu"

    def enabled(self, m: StepMachine, t: StepThread) -> bool:
        return all(th.rcu_depth == 0 for th in m.threads)

    def blocked_why(self, m: StepMachine, t: StepThread) -> tuple[str, StepThread | None]:
        readers = [th for th in m.threads if th.rcu_depth]
        return "waits for a grace period", readers[0] if readers else None

    def lkmm(self, weak: Any, t: StepThread, result: Any) -> None:
        weak.fence(t, "sync-rcu", self.name)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        return None
