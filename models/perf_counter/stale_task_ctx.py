"""perf_counter.stale_task_ctx: what a stale ``cpuctx->task_ctx`` leads to.

Follows kernel/perf_counter.c at a63eaf34 (``post``), its parent 34adc806
(``pre``) and a63eaf34 with c93f7669 applied (``c93f7669``). This is
ctx_lifetime's attach-vs-exit race, followed one step further. Task T,
current on cpu0, already has a context with one counter C0 whose fd monitor
M holds (so the context outlives T's exit and find_get_context takes no new
one). T runs ``do_exit`` while M, on cpu1, opens a second counter C1 on T,
then closes C1 and C0. After T's last context switch, the next task U takes
a software event on cpu0 (a page fault, say):
``perf_swcounter_event`` -> ``__perf_swcounter_event`` reads
``cpuctx->task_ctx`` and walks that context's ``event_list``.

The race this follows to its end is ctx_lifetime's attach-vs-exit: M1's
install IPI lands on cpu0 after ``perf_counter_exit_task`` cleared
``perf_counter_ctxp`` and adopts the context into ``cpuctx->task_ctx``; T's
last ``perf_counter_task_sched_out`` finds no context and leaves
``task_ctx`` alone. Once both counters are released the context is freed,
and the software event dereferences it.

``preempt`` is 0 by default: a non-preemptible kernel, where perf_release's
read of ``ctx->task`` after ``free_counter`` cannot race with the RCU
callback (that finding is double_del's), so what is left is this path.
Left out: the tick, and the CPU context's half of the event (empty).
"""

from __future__ import annotations

from ctxcheck import Config, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import (
    do_exit,
    file,
    fput,
    perf_swcounter_event,
    sys_perf_counter_open,
    task_struct,
)
from models.perf_counter.system import (
    PerfSystem,
    new_system,
    new_task,
    opened_counter,
    variants,
)
from properties import ALL
from properties.enable import late_start


def open_close(k: Kernel, s: PerfSystem, target: task_struct, c0: file) -> Steps:
    """M opens C1 on T, closes it, then closes C0."""
    filp = yield from sys_perf_counter_open(k, s, target)
    if filp is not None:
        yield from fput(k, s, filp)
    yield from fput(k, s, c0)


def software_event(k: Kernel, s: PerfSystem) -> Steps:
    """U, current on cpu0 after T's last switch, takes a page fault: a software event."""
    yield from perf_swcounter_event(k, s)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, 2, late_start=late_start)
    s.sw_events = True
    cpu0, cpu1 = s.cpus
    target = new_task(m, s, "T", cpu0, current=True)
    c0 = opened_counter(m, s, target, name="C0")
    mon = new_task(m, s, "M", cpu1, current=True)
    m.spawn("monitor", open_close, s, target, c0.filp.value, cpu=cpu1, task=mon)
    after = new_task(m, s, "U", cpu0, current=False)
    m.spawn("exit", do_exit, s, target, after, cpu=cpu0, task=target)
    m.spawn("fault:U", software_event, s, cpu=cpu0, task=after)
    return s


MODEL = Model(
    name="perf_counter.stale_task_ctx",
    doc=__doc__ or "",
    setup=setup,
    follows="torvalds/linux a63eaf34 (post), 34adc806 (pre), c93f7669 applied to "
    "a63eaf34 (c93f7669): kernel/perf_counter.c",
    params=(
        Param("preempt", 0, 0, 1, "1: preemptible kernel (grace periods end anywhere); 0: not"),
    ),
    variants=variants("pre", "post", "c93f7669"),
    properties=ALL,
    expectations=(),
    cite=cite,
    max_steps=1500,
)
