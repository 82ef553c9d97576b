"""perf_counter.ctx_hooks: the rest of the code that reads a task's context.

Follows kernel/perf_counter.c at a63eaf34 (``post``) and its parent 34adc806
(``pre``). Task T, current on cpu0, has one counter C (opened by monitor M,
which holds its fd) that tracks comm, mmap and munmap events, so the
tracking counts are up. T renames itself, maps and unmaps memory
(``perf_counter_comm``, ``perf_counter_mmap``, ``perf_counter_munmap``: each
hook checks its count, then walks ``current``'s context), then exits. M, on
cpu1, disables C (``ioctl(PERF_COUNTER_IOC_DISABLE)``, without
``PERF_IOC_FLAG_GROUP``: ``perf_counter_for_each_child``), reads it
(``perf_read`` -> ``perf_counter_read``, an IPI to the counter's CPU when it
is ACTIVE), enables it again with ``PERF_IOC_FLAG_GROUP``
(``perf_counter_for_each`` -> ``perf_counter_for_each_sibling``), and closes
the fd. Task U, which has no context, unmaps memory at the same time
(``hooks`` selects which of T's hooks run; U's munmap is always there).

Left out, and why it cannot hide a race on the context: the records the
hooks write (the output buffer is the counter's, not the context's), the
values read (times and counts), the CPU context's half of each hook (empty),
REFRESH and RESET (they go through the same enable and read paths).

Expected: in both versions the ioctl with ``PERF_IOC_FLAG_GROUP`` deadlocks:
``perf_counter_for_each_sibling`` holds ``ctx->lock`` (spin_lock_irq) while
it calls ``perf_counter_enable``, which takes ``ctx->lock`` again (an AA
deadlock; with IRQs off it would also send the IPI). In ``post``,
``perf_counter_munmap`` tests only ``nr_munmap_tracking``, not whether
``current`` has a context (perf_counter_mmap and perf_counter_comm do), so
U's munmap passes a NULL context to ``perf_counter_mmap_ctx``, which reads
``ctx->event_list`` (bug_on: a NULL dereference). In ``pre`` every task has
its embedded context, so the munmap is safe.
"""

from __future__ import annotations

from ctxcheck import Config, Expectation, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import (
    do_exit,
    file,
    fput,
    perf_counter_comm,
    perf_counter_mmap,
    perf_counter_munmap,
    perf_ioctl,
    perf_read,
    task_struct,
)
from models.perf_counter.system import PerfSystem, new_system, new_task, opened_counter, variants
from properties import ALL
from properties.enable import late_start


def task_hooks(k: Kernel, s: PerfSystem, me: task_struct, hooks: int) -> Steps:
    """T: set_task_comm, mmap, munmap (the first ``hooks`` of them), then do_exit."""
    for hook in (perf_counter_comm, perf_counter_mmap, perf_counter_munmap)[:hooks]:
        yield from hook(k, s)
    yield from do_exit(k, s, me)


def monitor(k: Kernel, s: PerfSystem, filp: file) -> Steps:
    """M: DISABLE (no group flag), read, ENABLE with PERF_IOC_FLAG_GROUP, close."""
    yield from perf_ioctl(k, s, filp, enable=False, group=False)
    yield from perf_read(k, s, filp)
    yield from perf_ioctl(k, s, filp, enable=True, group=True)
    yield from fput(k, s, filp)


def unmap(k: Kernel, s: PerfSystem) -> Steps:
    """U, a task without a context: munmap while munmap tracking is on."""
    yield from perf_counter_munmap(k, s)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, 2, late_start=late_start)
    cpu0, cpu1 = s.cpus
    target = new_task(m, s, "T", cpu0, current=True)
    counter = opened_counter(m, s, target, name="C")
    counter.tracks = True
    for count in (s.perf.nr_comm_tracking, s.perf.nr_mmap_tracking, s.perf.nr_munmap_tracking):
        count.value = 1  # C has hw_event.comm, .mmap and .munmap set
    mon = new_task(m, s, "M", cpu1, current=True)
    other = new_task(m, s, "U", None, current=False)
    m.spawn("T", task_hooks, s, target, cfg["hooks"], cpu=cpu0, task=target)
    m.spawn("M", monitor, s, counter.filp.value, cpu=cpu1, task=mon)
    m.spawn("U", unmap, s, task=other)
    return s


MODEL = Model(
    name="perf_counter.ctx_hooks",
    doc=__doc__ or "",
    setup=setup,
    follows="torvalds/linux a63eaf34 (post) and 34adc806 (pre): kernel/perf_counter.c",
    params=(Param("hooks", 3, 0, 3, "T's hooks before it exits: comm, mmap, munmap"),),
    variants=variants("pre", "post"),
    properties=ALL,
    expectations=(
        Expectation(
            "pre",
            False,
            ("deadlock",),
            "finding in the parent commit too: the group ioctl takes ctx->lock in "
            "perf_counter_for_each_sibling and again in perf_counter_enable",
            finding=True,
        ),
        Expectation(
            "post",
            False,
            ("bug_on", "deadlock"),
            "findings in a63eaf34: perf_counter_munmap dereferences a NULL context for "
            "a task without counters (the check a63eaf34 added to the mmap and comm "
            "hooks is missing there); the group ioctl's AA deadlock on ctx->lock",
            finding=True,
        ),
    ),
    cite=cite,
    max_steps=2000,
)
