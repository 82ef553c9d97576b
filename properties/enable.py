"""Prompt enable: a counter opened or enabled on a running task counts at once.

When ``sys_perf_counter_open`` or ``perf_counter_enable`` returns while the
counter's task is current on its CPU (no interrupt in progress there, IRQs
on) and nothing else keeps the counter off the PMU (it is enabled, on the
task's context, nothing is exclusive or pinned), the counter is ACTIVE. A
counter left INACTIVE waits for the next tick or context switch: events in
between are lost. The model evaluates :func:`late_start` in one step right
after the syscall's last step (the scenario hands it to the model's state)
and records failures in ``state.prompt_failures``.
"""

from __future__ import annotations

from typing import Any

from ctxcheck import Machine, Property
from properties.state import PerfState, cpu_busy

INACTIVE = 0


def late_start(s: Any, counter: Any, what: str) -> str | None:
    """Why ``counter`` is not counting right after ``what`` returned, if it should be.

    It should be ACTIVE when it is enabled (INACTIVE means enabled but not
    on the PMU), its task is not exiting and is current on its CPU with no
    interrupt in progress there, IRQs and preemption on, and the counter
    sits on the task's context.
    """
    if getattr(counter, "freed", False) or counter.state.value != INACTIVE:
        return None
    ctx = counter.ctx.value
    task = ctx.task.value
    cpu = getattr(task, "cpu", None)
    if task is None or cpu is None:
        return None
    if task.exiting.value or cpu.curr.value is not task or cpu_busy(s.machine, cpu):
        return None
    if s.current_ctx(task) is not ctx or not counter.list_entry.is_linked():
        return None
    task_ctx = s.cpuctx[cpu.index].task_ctx.value
    return (
        f"{what} returned with {counter.name} INACTIVE (enabled, not counting) while "
        f"{task.name} runs on {cpu.name} with {ctx.name} "
        f"(cpuctx.task_ctx = {'NULL' if task_ctx is None else task_ctx.name})"
    )


def prompt_enable(m: Machine, s: PerfState) -> str | None:
    """The first recorded late start, if any."""
    return s.prompt_failures[0] if s.prompt_failures else None


PROMPT_ENABLE = Property(
    "prompt_enable",
    "a counter opened or enabled while its task runs is counting when the call returns",
    prompt_enable,
)
