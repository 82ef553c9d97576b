"""Processors: :class:`CPU`, IRQ and preemption state, interrupts, context switches.

Each CPU has a current task (``rq->curr``, a cell) and an ``exec`` object:
every step of a task thread on the CPU reads it, and every change of who may
run there (IRQs off/on, preemption, an interrupt entering or leaving, a
context switch) writes it. That way the enabling and disabling of threads
shows up as ordinary conflicts, and partial-order reduction needs no
special case for it. The IRQ and preemption state itself is the running
thread's (:class:`ctxcheck.machine.Thread`); the ops here change it.
"""

from __future__ import annotations

from typing import Any

from ctxcheck.errors import PropertyViolated
from ctxcheck.primitives.base import (
    LOCKING,
    WRITE,
    Footprint,
    Op,
    SharedObject,
    StepMachine,
    StepThread,
    describe,
    exec_write,
)
from ctxcheck.primitives.memory import Cell


class CPU:
    """One processor: its current task and who occupies it right now."""

    __slots__ = ("_handler", "curr", "exec", "index", "name")

    def __init__(self, machine: StepMachine, index: int) -> None:
        self.index = index
        self.name = f"cpu{index}"
        #: ``rq->curr``: the task struct running here, or None for idle
        self.curr = Cell(machine, f"{self.name}.curr", None)
        self.exec = SharedObject(machine, f"{self.name}.exec")
        self._handler: StepThread | None = None

    @property
    def handler(self) -> StepThread | None:
        """The interrupt thread inside this CPU, if any (a read an invariant makes is noted)."""
        self.exec.noted()
        return self._handler

    def __repr__(self) -> str:
        return self.name


def _cpu_of(t: StepThread) -> CPU:
    cpu = t.cpu
    if cpu is None or not t.irq or not isinstance(cpu, CPU):
        raise TypeError(f"{t.name}: irq_enter is for interrupt threads of a CPU")
    return cpu


class CpuStateOp(Op):
    """A change of the running thread's IRQ or preemption state."""

    __slots__ = ()
    quiescence = True

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return exec_write(t)


class LocalIrqDisable(CpuStateOp):
    """``local_irq_disable()``."""

    __slots__ = ()
    name = "local_irq_disable"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        t.irqs_off = True


class LocalIrqEnable(CpuStateOp):
    """``local_irq_enable()``."""

    __slots__ = ()
    name = "local_irq_enable"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        if not t.in_irq:
            t.irqs_off = False


class LocalIrqSave(CpuStateOp):
    """``local_irq_save(flags)``: returns the previous state."""

    __slots__ = ()
    name = "local_irq_save"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        flags = t.irqs_off
        t.irqs_off = True
        return flags

    def describe(self, result: Any) -> str:
        return "local_irq_save()"


class LocalIrqRestore(CpuStateOp):
    """``local_irq_restore(flags)``."""

    __slots__ = ("flags",)
    name = "local_irq_restore"

    def __init__(self, flags: bool) -> None:
        self.flags = flags

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        if not t.in_irq:
            t.irqs_off = bool(self.flags)


class PreemptDisable(CpuStateOp):
    """``preempt_disable()`` (also ``get_cpu()``)."""

    __slots__ = ()
    name = "preempt_disable"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        t.preempt_count += 1


class PreemptEnable(CpuStateOp):
    """``preempt_enable()`` (also ``put_cpu()``)."""

    __slots__ = ()
    name = "preempt_enable"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        t.preempt_count -= 1


class IrqEnter(Op):
    """An interrupt arrives: the thread occupies its CPU, IRQs off.

    Enabled only while the CPU's running task has IRQs on (and, for a
    preempting interrupt, preemption on).
    """

    __slots__ = ("preempt",)
    name = "irq_enter"
    quiescence = True
    enters_irq = True

    def __init__(self, preempt: bool = False) -> None:
        self.preempt = preempt

    def enabled(self, m: StepMachine, t: StepThread) -> bool:
        return not t.in_irq and m.accepts_interrupt(_cpu_of(t), self.preempt)

    def blocked_why(self, m: StepMachine, t: StepThread) -> tuple[str, StepThread | None]:
        cpu = _cpu_of(t)
        if cpu._handler is not None:
            return f"waits to enter {cpu.name}, busy with {cpu._handler.name}", cpu._handler
        running = m.running_on(cpu)
        return (f"waits to interrupt {cpu.name}, where {describe(running)} has IRQs "
                f"or preemption off", running)  # fmt: skip

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return ((_cpu_of(t).exec.oid, WRITE),)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        cpu = _cpu_of(t)
        cpu._handler = t
        t.in_irq = True
        t.irqs_off = True

    def describe(self, result: Any) -> str:
        return "irq_enter()" if not self.preempt else "irq_enter(preempt)"


class IrqExit(Op):
    """The interrupt returns: the CPU goes back to its task."""

    __slots__ = ()
    name = "irq_exit"
    quiescence = True

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return () if t.cpu is None else ((t.cpu.exec.oid, WRITE),)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        cpu = t.cpu
        if not t.in_irq or not isinstance(cpu, CPU):
            raise TypeError(f"{t.name}: irq_exit without irq_enter")
        if t.held:
            raise PropertyViolated(
                LOCKING, f"{t.name} returns from interrupt holding {t.held[0].name}"
            )
        cpu._handler = None
        t.in_irq = False
        t.irqs_off = False


class ContextSwitch(Op):
    """``rq->curr = next``: the CPU now runs another task (or idle, None)."""

    __slots__ = ("cpu", "next")
    name = "context_switch"

    def __init__(self, cpu: CPU, next_task: Any) -> None:
        self.cpu = cpu
        self.next = next_task

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return ((self.cpu.curr.oid, WRITE), (self.cpu.exec.oid, WRITE))

    def target(self) -> SharedObject:
        return self.cpu.curr

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        self.cpu.curr._value = self.next

    def describe(self, result: Any) -> str:
        return f"context_switch({self.cpu.name} -> {describe(self.next)})"
