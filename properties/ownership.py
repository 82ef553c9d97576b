"""One context per task: a task owns at most one context and its counters are on it.

While a task's ``perf_counter_ctxp`` (or embedded context) is set, every
live counter whose context belongs to that task (``ctx->task``) uses that
very context, and no other published context names the task. Two contexts
for one task mean counters that the scheduler hooks never see (they use
``task->perf_counter_ctxp`` only): they can stay on the PMU after the task
leaves the CPU and their context is never freed by the task's exit.
"""

from __future__ import annotations

from typing import Any

from ctxcheck import Machine, Property
from ctxcheck.observe import judge_parts
from properties.state import PerfState, alive


def one_ctx_per_task(m: Machine, s: PerfState) -> str | None:
    """Check every task with a context against every live counter."""
    return judge_parts(s.tasks, lambda task: _owns_its_counters(s, task))


def _owns_its_counters(s: PerfState, task: Any) -> str | None:
    own = s.current_ctx(task)
    if own is None:
        return None
    for counter in s.counters():
        if not alive(counter):
            continue
        ctx = counter.ctx.value
        if ctx is own or not alive(ctx):
            continue
        if ctx.task.value is task:
            return (
                f"{counter.name} of {task.name} is on {ctx.name}, but "
                f"{task.name}'s context is {own.name}"
            )
    return None


ONE_CTX_PER_TASK = Property(
    "one_ctx_per_task",
    "a task owns at most one context and every counter of the task is on it",
    one_ctx_per_task,
)
