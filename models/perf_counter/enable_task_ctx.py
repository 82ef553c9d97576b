"""perf_counter.enable_task_ctx: prctl-disabled counters enabled again by ioctl.

Follows kernel/perf_counter.c at a63eaf34 (``post``) and its parent 34adc806
(``pre``). Task T, current on cpu0, has ``counters`` counters (ACTIVE). T
calls ``prctl(PR_TASK_PERF_COUNTERS_DISABLE)`` (``perf_counter_task_disable``:
the context is scheduled out, ``cpuctx->task_ctx`` becomes NULL, every
counter OFF), then ``ioctl(PERF_COUNTER_IOC_ENABLE)`` on each counter
(``perf_counter_enable`` -> ``__perf_counter_enable``, in place since T is
current), then ``prctl(PR_TASK_PERF_COUNTERS_ENABLE)``. The scheduler
interrupt switches T out and back ``switches`` times.

Left out, and why it cannot hide the race: a remote enabler (the handler runs
on T's CPU either way; T enabling itself is the shortest path to the NULL
``task_ctx``), the tick (it only repairs ``task_ctx`` later).

Expected: ``pre`` violates prompt_enable: the commit message says the prctl
case leaves ``task_ctx`` NULL there too, and ``__perf_counter_enable``
returns, so the counter is only marked INACTIVE. ``post`` holds: the handler
adopts the context. ``mutant-no-enable-task-ctx`` violates prompt_enable.
"""

from __future__ import annotations

from ctxcheck import Config, Expectation, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import (
    perf_counter,
    perf_counter_enable,
    perf_counter_task_disable,
    perf_counter_task_enable,
)
from models.perf_counter.system import (
    PerfSystem,
    new_system,
    new_task,
    opened_counter,
    scheduler,
    variants,
)
from properties import ALL
from properties.enable import late_start


def prctl_then_ioctl(k: Kernel, s: PerfSystem, counters: list[perf_counter]) -> Steps:
    """T: prctl disable, ioctl enable of each counter, prctl enable."""
    yield from perf_counter_task_disable(k, s)
    for counter in counters:
        yield from perf_counter_enable(k, s, counter)
        yield from s.observe_enabled(k, counter, "perf_counter_enable")
    yield from perf_counter_task_enable(k, s)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, 1, late_start=late_start)
    cpu0 = s.cpus[0]
    me = new_task(m, s, "T", cpu0, current=True)
    other = new_task(m, s, "U", cpu0, current=False)
    counters = [opened_counter(m, s, me, name=f"C{i}") for i in range(cfg["counters"])]
    m.spawn("T", prctl_then_ioctl, s, counters, cpu=cpu0, task=me)
    if cfg["switches"]:
        m.spawn("sched@cpu0", scheduler, s, cpu0, me, other, cfg["switches"], cpu=cpu0, irq=True)
    return s


MODEL = Model(
    name="perf_counter.enable_task_ctx",
    doc=__doc__ or "",
    setup=setup,
    follows="torvalds/linux a63eaf34 (post) and 34adc806 (pre): kernel/perf_counter.c",
    params=(
        Param("counters", 1, 1, 4, "counters on T"),
        Param("switches", 2, 0, 4, "context switches on cpu0 (even: T ends current)"),
    ),
    variants=variants("pre", "post", "mutant-no-enable-task-ctx"),
    properties=ALL,
    expectations=(
        Expectation(
            "pre", False, ("prompt_enable",), "prctl disable left task_ctx NULL; enable waits"
        ),
        Expectation("post", True, reason="__perf_counter_enable adopts a NULL task_ctx"),
        Expectation(
            "mutant-no-enable-task-ctx",
            False,
            ("prompt_enable",),
            "task_ctx stays NULL: the enabled counter waits for the next tick or switch",
        ),
    ),
    cite=cite,
    max_steps=1000,
)
