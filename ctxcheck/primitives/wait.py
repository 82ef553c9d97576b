"""Spin-waits that block: ``spin_until`` and ``smp_cond_load_*``.

Kernel code is full of loops that wait for another CPU: ``while
(READ_ONCE(x) & 1) cpu_relax();`` in a seqcount reader, a flag polled
until an IPI handler sets it, ``smp_cond_load_acquire(&lock->val, !VAL)``.
Written as a Python ``while`` loop of loads, such a loop is a retry loop to
the checker: a schedule that keeps running the spinning thread never ends,
and the step bound reports it as ``termination``. Yet nothing happens in
an iteration that finds the condition false: the thread reads, compares
and reads again, and the state is the one it started from.

So a spin-wait is one step that is *not enabled* until its condition holds,
as a lock acquisition is not enabled while another thread holds the lock:

* ``yield k.spin_until(lambda: s.sequence.value % 2 == 0)`` waits until the
  condition, evaluated on the shared state, is true, and returns what it
  returned;
* ``seq = yield k.smp_cond_load_acquire(s.sequence, lambda v: v % 2 == 0)``
  (``VAL`` is the argument) waits until the word satisfies the condition and
  returns the value it read, like the kernel macro.

The schedules in which the loop spins are the schedules in which the
thread is not scheduled: every iteration that found the condition false is
a step that changed nothing, so leaving it out loses no state (the
unrolled loop and the blocking step give the same verdicts, which
``tests/test_spin_until.py`` checks on generated programs). A wait that
can never be satisfied leaves the thread blocked when the others are
done, which is reported as a ``deadlock`` naming the waiting threads and
what their conditions read, not as ``termination``.

What the step depends on is what the condition reads, recorded each time
it is evaluated (the way :class:`~ctxcheck.primitives.observation.Judge`
records a judgement's reads): its footprint reads those objects, so a write
to one of them races with the wait, and a write that disables or enables
the waiter is ordered against it by the reducing explorers. ``reads=``
declares the objects the condition may read; a condition that reads
anything else is a model error, so a reviewer can see the dependence at
the call.

The condition is evaluated atomically, in one step: a condition over two
words reads both at once, which the C loop does not (it reads them one
after the other). Wait on one word, or on words whose simultaneous reading
does not matter, to stay as weak as the code. The condition must read
shared state only through the objects (``cell.value``, ``lock.holder``,
...), never through Python state of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ctxcheck.errors import ModelError
from ctxcheck.observe import PropertyReads, reads_into
from ctxcheck.primitives.base import (
    READ,
    Footprint,
    Op,
    SharedObject,
    StepMachine,
    StepThread,
    access,
    check_alive,
    describe,
)
from ctxcheck.primitives.memory import Cell


def _where(func: Callable[..., Any]) -> str:
    code = getattr(func, "__code__", None)
    if code is None:
        return repr(func)
    return f"{code.co_filename}:{code.co_firstlineno}"


class SpinUntil(Op):
    """``while (!cond) cpu_relax();`` as one step, enabled once ``cond()`` holds."""

    __slots__ = ("cond", "declared", "label")
    name = "spin_until"
    writes = False

    def __init__(
        self,
        cond: Callable[[], Any],
        reads: Sequence[SharedObject] | None = None,
        label: str | None = None,
    ) -> None:
        if not callable(cond):
            raise TypeError(f"spin_until needs a condition to call, got {cond!r}")
        if reads is not None:
            for obj in reads:
                if not isinstance(obj, SharedObject):
                    raise TypeError(f"spin_until(reads=...) needs shared objects, got {obj!r}")
        self.cond = cond
        self.declared = None if reads is None else tuple(reads)
        self.label = label or getattr(cond, "__name__", "cond")

    # -- evaluating the condition ------------------------------------------
    def _evaluate(self, m: StepMachine, t: StepThread) -> tuple[Any, list[SharedObject]]:
        """``cond()`` in the current state, and the objects it read (in id order)."""
        try:
            with reads_into(PropertyReads(), m) as seen:
                value = self.cond()
        except ModelError:
            raise
        except Exception as exc:  # the model's condition failed: a model bug
            raise ModelError(
                f"the condition of {self.name}({self.label}) in thread {t.name} raised "
                f"{type(exc).__name__}: {exc} (condition defined at {_where(self.cond)}). "
                f"This is a bug in the model, not a property violation."
            ) from exc
        objs = [m.by_oid[oid] for oid in sorted(seen.masks)]
        declared = self.declared
        if declared is not None:
            known = {obj.oid for obj in declared}
            extra = [obj.name for obj in objs if obj.oid not in known]
            if extra:
                raise ModelError(
                    f"the condition of {self.name}({self.label}) in thread {t.name} read "
                    f"{', '.join(extra)}, which its reads= does not name (declared: "
                    f"{', '.join(o.name for o in declared) or 'nothing'}); add "
                    f"{'them' if len(extra) > 1 else 'it'} to reads=, or leave reads= out "
                    f"to have the reads recorded."
                )
        return value, objs

    def enabled(self, m: StepMachine, t: StepThread) -> bool:
        return bool(self._evaluate(m, t)[0])

    def blocked_why(self, m: StepMachine, t: StepThread) -> tuple[str, StepThread | None]:
        _, objs = self._evaluate(m, t)
        return f"spins in {self.name}({self.label}) on {self._values(objs)}", None

    @staticmethod
    def _values(objs: list[SharedObject]) -> str:
        if not objs:
            return "nothing shared (its condition reads no shared object)"
        parts = []
        for obj in objs:
            if isinstance(obj, Cell):
                parts.append(f"{obj.name} = {describe(obj._value)}")
            else:
                parts.append(obj.name)
        return ", ".join(parts)

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        _, objs = self._evaluate(m, t)
        fp: list[tuple[int, int]] = []
        for obj in objs:
            fp.extend(access(obj, READ))
        return tuple(fp)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        value, objs = self._evaluate(m, t)
        for obj in objs:
            check_alive(obj, self.name)
        return value

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.label}) = {describe(result)}"

    def signature(self) -> tuple[str, int]:
        return (f"{self.name}:{self.label}", -1)


class CondLoad(SpinUntil):
    """``smp_cond_load_relaxed(ptr, cond)``: spin on one word until ``cond(VAL)``.

    Returns the value that satisfied the condition, as the kernel macro does.
    """

    __slots__ = ("cell",)
    name = "smp_cond_load_relaxed"

    def __init__(self, cell: Cell, cond: Callable[[Any], Any], label: str | None = None) -> None:
        if not isinstance(cell, Cell):
            raise TypeError(f"{self.name} needs a Cell (a struct field), got {cell!r}")
        if not callable(cond):
            raise TypeError(f"{self.name} needs a condition on VAL to call, got {cond!r}")
        super().__init__(lambda: cond(cell.value), (cell,), label or cell.name)
        self.cell = cell

    def _evaluate(self, m: StepMachine, t: StepThread) -> tuple[Any, list[SharedObject]]:
        try:
            ok = self.cond()
        except Exception as exc:  # the model's condition failed: a model bug
            raise ModelError(
                f"the condition of {self.name}({self.cell.name}) in thread {t.name} raised "
                f"{type(exc).__name__}: {exc}. This is a bug in the model, not a property "
                f"violation."
            ) from exc
        return (self.cell._value if ok else None), [self.cell]

    def enabled(self, m: StepMachine, t: StepThread) -> bool:
        try:
            return bool(self.cond())
        except Exception:  # reported by _evaluate when the step is asked about
            return True

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return access(self.cell, READ)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        self._evaluate(m, t)
        check_alive(self.cell, self.name)
        return self.cell._value

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.cell.name}) = {describe(result)}"

    def target(self) -> SharedObject:
        return self.cell

    def signature(self) -> tuple[str, int]:
        return (self.name, self.cell.oid)


class CondLoadAcquire(CondLoad):
    """``smp_cond_load_acquire(ptr, cond)``: the same step (steps are sequentially consistent)."""

    __slots__ = ()
    name = "smp_cond_load_acquire"
