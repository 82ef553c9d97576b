"""What every perf_counter scenario shares: the per-run system, setup helpers, the scheduler.

:class:`PerfSystem` is the state a scenario's ``setup`` returns: the CPUs'
``perf_cpu_context``, the file-scope globals, which version of the code runs
(a :class:`~models.perf_counter.kernel.Flavor`), the tasks and files of the
scenario, and a little bookkeeping the properties read (who holds a context
reference that the kernel does not name in memory, which contexts are still
private to their creator, what the opened/enabled counters looked like when
the syscall returned). The bookkeeping is updated by the model code right
after the step it belongs to, never as a step of its own.

Context switches are interrupt threads (:func:`scheduler`): ``irq_enter``
with preemption, ``perf_counter_task_sched_out(prev)``, ``rq->curr = next``,
``perf_counter_task_sched_in(next)``, ``irq_exit``: so an IPI lands either
before the switch or after it, never between the two hooks, as on x86.
"""

from __future__ import annotations

from typing import Any

from ctxcheck import CPU, Cell, Config, Kernel, ListHead, Machine, Struct, field
from ctxcheck.kernel import Steps
from models.perf_counter.kernel import (
    perf_counter_task_sched_in,
    perf_counter_task_sched_out,
    perf_counter_task_tick,
)
from models.perf_counter.state import LateStart, PerfSystem
from models.perf_counter.structs import (
    FLAVORS,
    PERF_COUNTER_STATE_ACTIVE,
    PERF_COUNTER_STATE_INACTIVE,
    VARIANT_DOCS,
    file,
    perf_counter,
    perf_counter_context,
    perf_cpu_context,
    perf_globals,
    task_struct,
)


class fd_slot(Struct):
    """One entry of the monitor's file table (``fd_install`` writes it, close clears it)."""

    _label = "fd"
    fd: Cell = field(None)


def new_system(
    m: Machine,
    cfg: Config,
    cpus: int,
    failures: bool = False,
    tick: bool = False,
    late_start: LateStart | None = None,
) -> PerfSystem:
    """Bring up ``cpus`` CPUs with empty per-CPU contexts and the globals.

    ``late_start`` is the judgement of prompt_enable (properties.enable's),
    handed in by the scenario. A ``preempt`` parameter, where the scenario
    has one, says whether the kernel is preemptible.
    """
    flavor = FLAVORS[cfg.variant]
    cpu_list = m.add_cpus(cpus)
    cpuctx = [m.new(perf_cpu_context, name=f"cpuctx{c.index}") for c in cpu_list]
    perf = m.new(perf_globals, name="perf")
    s = PerfSystem(m, flavor, cfg.variant, cpu_list, cpuctx, perf, failures=failures, tick=tick)
    s.late_start = late_start
    if "preempt" in cfg.params:
        s.preempt = bool(cfg["preempt"])
    return s


def new_task(m: Machine, s: PerfSystem, name: str, cpu: CPU | None, current: bool) -> task_struct:
    """A task (optionally current on ``cpu``); 34adc806 gives it its embedded context."""
    task = m.new(task_struct, name=name, cpu=cpu)
    if not s.v.dynamic_ctx:
        task.perf_counter_ctx = m.new(perf_counter_context, name=f"{name}.ctx", task=task)
    s.tasks.append(task)
    if current and cpu is not None:
        cpu.curr.value = task
        if not s.v.dynamic_ctx:  # sched_in ran for it: the embedded ctx is active
            s.cpuctx[cpu.index].task_ctx.value = task.perf_counter_ctx
            task.perf_counter_ctx.is_active.value = 1
    return task


def _link_tail(node: ListHead, head: ListHead) -> None:
    """list_add_tail at setup time (not a step)."""
    prev = head.prev
    assert isinstance(prev, ListHead)
    node.prev, node.next = prev, head
    prev.next = node
    head.prev = node


def opened_counter(
    m: Machine, s: PerfSystem, task: task_struct, inherit: bool = False, name: str = "C"
) -> perf_counter:
    """The state a finished ``sys_perf_counter_open`` on a running ``task`` leaves.

    A context (kmalloc'ed at a63eaf34, refcount 1 + 1), the counter on its
    lists, ACTIVE on the task's CPU when the task is current there, its file
    with one reference (the monitor's fd).
    """
    if s.v.dynamic_ctx:
        ctx = task.perf_counter_ctxp.value
        if ctx is None:
            ctx = m.alloc(perf_counter_context, name=f"{task.name}.ctx", task=task, refcount=1)
            task.perf_counter_ctxp.value = ctx
        ctx.refcount.value += 1
    else:
        ctx = task.perf_counter_ctx
    counter = m.alloc(perf_counter, name=name, ctx=ctx, inherit=inherit, ctx_ref=s.v.dynamic_ctx)
    if not s.v.dynamic_ctx:
        counter.task.value = task
    filp = m.alloc(file, name=f"{name}.file", private_data=counter)
    counter.filp.value = filp
    s.files.append(filp)
    _link_tail(counter.list_entry, ctx.counter_list)
    _link_tail(counter.event_entry, ctx.event_list)
    ctx.nr_counters.value += 1
    if s.tick:
        s.perf.nr_counters.value += 1
    cpu = task.cpu
    if cpu is not None and cpu.curr.value is task:
        cpuctx = s.cpuctx[cpu.index]
        counter.state.value = PERF_COUNTER_STATE_ACTIVE
        counter.oncpu.value = cpu.index
        cpuctx.active_oncpu.value += 1
        ctx.nr_active.value += 1
        ctx.is_active.value = 1
        cpuctx.task_ctx.value = ctx
    return counter


def preempt_param() -> Any:
    """The ``preempt`` parameter of the scenarios where RCU grace periods matter."""
    from ctxcheck import Param

    return Param("preempt", 1, 0, 1, "1: preemptible kernel (grace periods end anywhere); 0: not")


def variants(*names: str) -> tuple[Any, ...]:
    """ctxcheck Variants for the given names, with their documentation."""
    from ctxcheck import Variant

    return tuple(Variant(n, VARIANT_DOCS[n]) for n in names)


# ------------------------------------------------------------ interrupts


def context_switch_irq(
    k: Kernel, s: PerfSystem, cpu: CPU, prev: task_struct, nxt: task_struct
) -> Steps:
    """One schedule() on ``cpu`` from ``prev`` to ``nxt``; nothing if prev is not current."""
    yield k.irq_enter(preempt=True)
    if k.current is prev:
        yield from perf_counter_task_sched_out(k, s, prev)
        yield k.context_switch(cpu, nxt)
        yield from perf_counter_task_sched_in(k, s, nxt)
    yield k.irq_exit()


def scheduler(
    k: Kernel, s: PerfSystem, cpu: CPU, task: task_struct, other: task_struct, switches: int
) -> Steps:
    """``switches`` context switches on ``cpu``: ``task`` -> ``other``, back, and so on.

    A task with a thread of its own needs an even number, so that it is
    current again at the end and can finish.
    """
    pair = (task, other)
    for i in range(switches):
        yield from context_switch_irq(k, s, cpu, pair[i % 2], pair[(i + 1) % 2])


def tick(k: Kernel, s: PerfSystem, ticks: int) -> Steps:
    """The timer interrupt of one CPU, ``ticks`` times: perf_counter_task_tick(current)."""
    for _ in range(ticks):
        yield k.irq_enter()
        yield from perf_counter_task_tick(k, s, k.current)
        yield k.irq_exit()


__all__ = [
    "PERF_COUNTER_STATE_INACTIVE",
    "PerfSystem",
    "context_switch_irq",
    "fd_slot",
    "new_system",
    "new_task",
    "opened_counter",
    "preempt_param",
    "scheduler",
    "tick",
    "variants",
]
