"""The view of a perf_counter model's state that the properties read.

A scenario's state object provides these members (the perf_counter models'
``PerfSystem`` does); the structs have the kernel's field names as ctxcheck
cells (``ctx.nr_counters.value``), and lists are ctxcheck ``ListHead`` s.
"""

from __future__ import annotations

from typing import Any, Protocol

from ctxcheck import Machine


class PerfState(Protocol):
    """What the properties need to know about one run."""

    machine: Machine
    #: the CPUs' struct perf_cpu_context, indexed like machine.cpus
    cpuctx: list[Any]
    #: the scenario's task structs
    tasks: list[Any]
    #: the counters' struct file objects
    files: list[Any]
    #: contexts allocated and not yet published: their creator holds the reference
    creating: set[Any]
    #: contexts unhooked by perf_counter_exit_task that still hold the task reference
    exit_holding: set[Any]
    #: references find_get_context took for openers (c93f7669), one entry each
    opening: list[Any]
    #: tasks being forked, whose contexts are private to the forking parent
    unborn: set[Any]
    #: what was wrong when an open/enable returned (see properties.enable)
    prompt_failures: list[str]

    def contexts(self) -> list[Any]:
        """Every perf_counter_context of the run (heap and embedded)."""
        ...

    def counters(self) -> list[Any]:
        """Every perf_counter allocated in the run."""
        ...

    def current_ctx(self, task: Any) -> Any:
        """The task's context now (``perf_counter_ctxp`` or the embedded one)."""
        ...

    def task_exited(self, task: Any) -> bool:
        """The task has run do_exit to its last context switch."""
        ...


def alive(obj: Any) -> bool:
    """Not freed (static objects are always alive)."""
    return obj is not None and not getattr(obj, "freed", False)


def counters_on(ctx: Any) -> list[Any]:
    """The counters linked on ``ctx->event_list`` (every counter of the context)."""
    return [node.owner for node in ctx.event_list.entries()]


def cpu_busy(m: Machine, cpu: Any) -> bool:
    """Something is changing ``cpu``'s per-CPU state right now.

    An interrupt handler is running there (a context switch's hooks, an IPI),
    or the task running there has IRQs or preemption off (inside a
    ``spin_lock_irq`` section, ``perf_counter_task_disable``, the exit
    path). The per-CPU view (``task_ctx``, ``active_oncpu``, the ACTIVE
    counters) is only changed in such sections, so it is judged outside
    them. Reading this state makes exactly that CPU's IRQ, preemption and
    interrupt steps visible to the property that asks (see
    :mod:`ctxcheck.observe`), and a property asks only when it found a
    mismatch, so CPUs with nothing to judge cost no reduction.
    """
    if cpu.handler is not None:
        return True
    thread = m.running_on(cpu)
    return thread is not None and bool(thread.irqs_off or thread.preempt_count)
