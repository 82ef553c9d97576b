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

Both are judged per CPU outside the sections that change that CPU's view
(:func:`properties.state.cpu_busy`: an interrupt in progress there, or IRQs
or preemption off in the task running there); a counter's context may also
be mid-update under ``ctx->lock`` by a remote CPU.
"""

from __future__ import annotations

from typing import Any

from ctxcheck import Machine, Property
from ctxcheck.observe import judge_parts
from properties.state import PerfState, alive, cpu_busy

ACTIVE = 1


def consistent_cpuctx(m: Machine, s: PerfState) -> str | None:
    """task_ctx of every CPU against the task running there."""
    return judge_parts(
        zip(m.cpus, s.cpuctx, strict=True),
        lambda pair: _cpu_consistent(m, s, *pair),
        key=_cpu_of_pair,
    )


def _cpu_of_pair(pair: tuple[Any, Any]) -> Any:
    """A (cpu, cpuctx) pair is judged as the CPU's part."""
    return pair[0]


def _cpu_consistent(m: Machine, s: PerfState, cpu: Any, cpuctx: Any) -> str | None:
    curr = cpu.curr.value
    task_ctx = cpuctx.task_ctx.value
    own = s.current_ctx(curr) if curr is not None else None
    if task_ctx is not None and task_ctx is not own:
        if cpu_busy(m, cpu):
            return None
        return (
            f"{cpuctx.name}.task_ctx is {task_ctx.name} but {cpu.name} runs "
            f"{getattr(curr, 'name', 'idle')} whose context is "
            f"{getattr(own, 'name', 'NULL')}"
        )
    if own is not None and alive(own) and own.is_active.value and task_ctx is not own:
        if cpu_busy(m, cpu):
            return None
        return (
            f"{own.name} of {curr.name} is active on {cpu.name} but "
            f"{cpuctx.name}.task_ctx is {getattr(task_ctx, 'name', 'NULL')}"
        )
    return None


def counters_on_scheduled_ctx(m: Machine, s: PerfState) -> str | None:
    """ACTIVE counters against task_ctx, nr_active and active_oncpu.

    Three kinds of conjunct (:func:`ctxcheck.observe.part`): each counter's
    place, each context's ``nr_active``, each CPU's ``active_oncpu``.
    """
    return (
        judge_parts(s.counters(), lambda counter: _counter_scheduled(m, s, counter))
        or judge_parts(s.contexts(), lambda ctx: _nr_active_matches(m, s, ctx))
        or judge_parts(
            zip(m.cpus, s.cpuctx, strict=True),
            lambda pair: _active_oncpu_matches(m, s, *pair),
            key=_cpu_of_pair,
        )
    )


def _counter_scheduled(m: Machine, s: PerfState, counter: Any) -> str | None:
    if not _active(counter):
        return None
    ctx = counter.ctx.value
    oncpu = counter.oncpu.value
    if 0 <= oncpu < len(m.cpus) and s.cpuctx[oncpu].task_ctx.value is ctx:
        return None
    if _settling(m, s, ctx, oncpu):
        return None
    return (
        f"{counter.name} is ACTIVE on cpu{oncpu} but its context {ctx.name} is not scheduled there"
    )


def _active(counter: Any) -> bool:
    return alive(counter) and counter.state.value == ACTIVE


def _nr_active_matches(m: Machine, s: PerfState, ctx: Any) -> str | None:
    if not alive(ctx):
        return None
    active = sum(1 for c in s.counters() if c.ctx.value is ctx and _active(c))
    if ctx.nr_active.value == active or _settling(m, s, ctx, None):
        return None
    return f"{ctx.name}.nr_active is {ctx.nr_active.value} but {active} of its counters are ACTIVE"


def _active_oncpu_matches(m: Machine, s: PerfState, cpu: Any, cpuctx: Any) -> str | None:
    active = sum(1 for c in s.counters() if _active(c) and c.oncpu.value == cpu.index)
    if cpuctx.active_oncpu.value == active or cpu_busy(m, cpu):
        return None
    return (
        f"{cpuctx.name}.active_oncpu is {cpuctx.active_oncpu.value} but "
        f"{active} counters are ACTIVE on {cpu.name}"
    )


def _settling(m: Machine, s: PerfState, ctx: Any, oncpu: int | None) -> bool:
    """A mismatch about ``ctx`` that an update in progress explains."""
    if ctx.lock.holder is not None:
        return True
    if oncpu is not None and 0 <= oncpu < len(m.cpus) and cpu_busy(m, m.cpus[oncpu]):
        return True
    return any(cpu_busy(m, cpu) for cpu in m.cpus if s.cpuctx[cpu.index].task_ctx.value is ctx)


CONSISTENT_CPUCTX = Property(
    "consistent_cpuctx",
    "cpuctx->task_ctx is the running task's context, and is set while that context is active",
    consistent_cpuctx,
)

COUNTERS_ON_SCHEDULED_CTX = Property(
    "counters_on_scheduled_ctx",
    "every ACTIVE counter is on a context scheduled on its CPU; nr_active and "
    "active_oncpu count them",
    counters_on_scheduled_ctx,
)
