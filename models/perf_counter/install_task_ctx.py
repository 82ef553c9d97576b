"""perf_counter.install_task_ctx: a task opens its first counter on itself.

Follows kernel/perf_counter.c at a63eaf34 (``post``) and its parent 34adc806
(``pre``). Task T, current on cpu0 with no context (a63eaf34), calls
``sys_perf_counter_open(pid=0)``: ``find_get_context`` creates and publishes
its context, ``perf_install_in_context`` finds T current and runs
``__perf_install_in_context`` in place with IRQs off. Meanwhile the scheduler
interrupt switches T out and back (``switches``, even) and the tick runs
``perf_counter_task_tick`` (``ticks``).

Left out, and why it cannot hide the race: other openers (ctx_create covers
them), per-CPU counters and the CPU context of the tick (empty here).

Expected: ``pre`` holds (sched-in always set ``task_ctx`` to the embedded
context). ``post`` holds: the new code in ``__perf_install_in_context``
adopts the NULL ``task_ctx``. ``mutant-no-install-task-ctx``: the IPI sees
``task_ctx`` NULL and returns; the counter is added INACTIVE under the lock
and waits for the next tick or switch (prompt_enable).
"""

from __future__ import annotations

from ctxcheck import Config, Expectation, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import sys_perf_counter_open, task_struct
from models.perf_counter.system import PerfSystem, new_system, new_task, scheduler, tick, variants
from properties import ALL
from properties.enable import late_start


def self_open(k: Kernel, s: PerfSystem, me: task_struct) -> Steps:
    """T opens a counter on itself (pid 0) and keeps the fd."""
    yield from sys_perf_counter_open(k, s, me)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, 1, tick=cfg["ticks"] > 0, late_start=late_start)
    cpu0 = s.cpus[0]
    me = new_task(m, s, "T", cpu0, current=True)
    other = new_task(m, s, "U", cpu0, current=False)
    m.spawn("open", self_open, s, me, cpu=cpu0, task=me)
    if cfg["switches"]:
        m.spawn("sched@cpu0", scheduler, s, cpu0, me, other, cfg["switches"], cpu=cpu0, irq=True)
    if cfg["ticks"]:
        m.spawn("tick@cpu0", tick, s, cfg["ticks"], cpu=cpu0, irq=True)
    return s


MODEL = Model(
    name="perf_counter.install_task_ctx",
    doc=__doc__ or "",
    setup=setup,
    follows="torvalds/linux a63eaf34 (post) and 34adc806 (pre): kernel/perf_counter.c",
    params=(
        Param("switches", 2, 0, 4, "context switches on cpu0 (even: T ends current)"),
        Param("ticks", 1, 0, 3, "timer ticks on cpu0"),
    ),
    variants=variants("pre", "post", "mutant-no-install-task-ctx"),
    properties=ALL,
    expectations=(
        Expectation("pre", True, reason="sched-in always installed the embedded context"),
        Expectation("post", True, reason="__perf_install_in_context adopts a NULL task_ctx"),
        Expectation(
            "mutant-no-install-task-ctx",
            False,
            ("prompt_enable",),
            "task_ctx stays NULL: the first counter waits for the next tick or switch",
        ),
    ),
    cite=cite,
    max_steps=1000,
)
