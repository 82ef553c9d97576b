"""The per-CPU view agrees with who runs: consistent cpuctx, counters on a scheduled context.

``consistent_cpuctx``: a non-NULL ``cpuctx[c].task_ctx`` is the context of
the task current on CPU c, and when the task current on c has an active
context (``is_active``), ``task_ctx`` is that context. Otherwise the IPI
handlers' "is this my context?" test answers wrong, and a context switch
schedules out a context other than the one on the PMU.

``counters_on_scheduled_ctx``: every counter in state ACTIVE (on the PMU)
sits on a context that is some CPU's ``task_ctx``, with ``oncpu`` that CPU,
and the PMU bookkeeping agrees: ``ctx->nr_active`` is the number of ACTIVE
counters of the context and ``cpuctx->active_oncpu`` the number on the CPU.
An ACTIVE counter of an unscheduled context counts for whatever task runs.

Both are checked at quiescent points: no IRQs off, no spinlock held, no
interrupt in progress (the scheduler hooks and IPI handlers run in between).
"""

from __future__ import annotations

from ctxcheck import Machine, Property
from properties.state import PerfState, alive

ACTIVE = 1


def consistent_cpuctx(m: Machine, s: PerfState) -> str | None:
    """task_ctx of every CPU against the task running there."""
    for cpu, cpuctx in zip(m.cpus, s.cpuctx, strict=True):
        curr = cpu.curr.value
        task_ctx = cpuctx.task_ctx.value
        own = s.current_ctx(curr) if curr is not None else None
        if task_ctx is not None and task_ctx is not own:
            return (
                f"{cpuctx.name}.task_ctx is {task_ctx.name} but {cpu.name} runs "
                f"{getattr(curr, 'name', 'idle')} whose context is "
                f"{getattr(own, 'name', 'NULL')}"
            )
        if own is not None and alive(own) and own.is_active.value and task_ctx is not own:
            return (
                f"{own.name} of {curr.name} is active on {cpu.name} but "
                f"{cpuctx.name}.task_ctx is {getattr(task_ctx, 'name', 'NULL')}"
            )
    return None


def counters_on_scheduled_ctx(m: Machine, s: PerfState) -> str | None:
    """ACTIVE counters against task_ctx, nr_active and active_oncpu."""
    per_cpu = [0] * len(m.cpus)
    per_ctx: dict[int, int] = {}
    for counter in s.counters():
        if not alive(counter) or counter.state.value != ACTIVE:
            continue
        ctx = counter.ctx.value
        oncpu = counter.oncpu.value
        if not 0 <= oncpu < len(m.cpus) or s.cpuctx[oncpu].task_ctx.value is not ctx:
            return (
                f"{counter.name} is ACTIVE on cpu{oncpu} but its context {ctx.name} "
                f"is not scheduled there"
            )
        per_cpu[oncpu] += 1
        per_ctx[id(ctx)] = per_ctx.get(id(ctx), 0) + 1
    for ctx in s.contexts():
        if alive(ctx) and ctx.nr_active.value != per_ctx.get(id(ctx), 0):
            return (
                f"{ctx.name}.nr_active is {ctx.nr_active.value} but "
                f"{per_ctx.get(id(ctx), 0)} of its counters are ACTIVE"
            )
    for i, cpuctx in enumerate(s.cpuctx):
        if cpuctx.active_oncpu.value != per_cpu[i]:
            return (
                f"{cpuctx.name}.active_oncpu is {cpuctx.active_oncpu.value} but "
                f"{per_cpu[i]} counters are ACTIVE on cpu{i}"
            )
    return None


CONSISTENT_CPUCTX = Property(
    "consistent_cpuctx",
    "cpuctx->task_ctx is the running task's context, and is set while that context is active",
    consistent_cpuctx,
    quiescent=True,
)

COUNTERS_ON_SCHEDULED_CTX = Property(
    "counters_on_scheduled_ctx",
    "every ACTIVE counter is on a context scheduled on its CPU; nr_active and "
    "active_oncpu count them",
    counters_on_scheduled_ctx,
    quiescent=True,
)
