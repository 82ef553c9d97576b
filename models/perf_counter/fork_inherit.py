"""perf_counter.fork_inherit: fork with and without counters, and the child's exit.

Follows kernel/perf_counter.c at a63eaf34 (``post``) and its parent 34adc806
(``pre``). Task P, current on cpu0, has ``counters`` inheritable counters
opened by monitor M. P forks child A (``perf_counter_init_task``:
``inherit_counter`` for each counter, raising the parent file's ``f_count``);
A then runs on cpu1 (``perf_counter_task_sched_in`` at its first switch-in),
and exits (``perf_counter_exit_task``: each child counter is unlinked,
synced back with ``sync_child_counter``, whose ``fput`` may be the parent
file's last, and freed). Meanwhile M closes its fds. Task Q, which has no
counters, forks child B (B never runs).

Left out, and why it cannot hide the races: copy_process but the perf hook
(the child is invisible until it runs, as the kernel says), counts and
times fed back to the parent, groups.

Expected: ``pre`` holds. ``post`` shows a finding of the real a63eaf34 code:
``perf_counter_init_task`` kmallocs the child's context before it checks
whether the parent has counters, and returns without freeing it, so every
fork of a task without counters leaks a context (no_leak).
"""

from __future__ import annotations

from ctxcheck import Config, Expectation, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import (
    do_exit,
    file,
    fput,
    perf_counter_init_task,
    perf_counter_task_sched_in,
    task_struct,
)
from models.perf_counter.system import (
    PerfSystem,
    new_system,
    new_task,
    opened_counter,
    preempt_param,
    variants,
)
from properties import ALL
from properties.enable import late_start


def child_runs(k: Kernel, s: PerfSystem, child: task_struct) -> Steps:
    """The child's first switch-in (schedule_tail, IRQs off), then its exit."""
    yield k.local_irq_disable()
    yield from perf_counter_task_sched_in(k, s, child)
    yield k.local_irq_enable()
    yield from do_exit(k, s, child)


def fork(k: Kernel, s: PerfSystem, child: task_struct, run: bool) -> Steps:
    """copy_process's perf hook, then wake_up_new_task (the child thread starts)."""
    yield from perf_counter_init_task(k, s, child)
    s.unborn.discard(child)
    if run:
        yield k.spawn(f"{child.name}", child_runs, s, child, cpu=child.cpu, task=child)


def close_all(k: Kernel, s: PerfSystem, files: list[file]) -> Steps:
    """The monitor closes its fds."""
    for filp in files:
        yield from fput(k, s, filp)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, 2, failures=bool(cfg["failures"]), late_start=late_start)
    s.pmu_failures = bool(cfg["failures"])
    cpu0, cpu1 = s.cpus
    parent = new_task(m, s, "P", cpu0, current=True)
    child = new_task(m, s, "A", cpu1, current=True)
    lone = new_task(m, s, "Q", None, current=False)
    orphan = new_task(m, s, "B", None, current=False)
    counters = [
        opened_counter(m, s, parent, inherit=True, name=f"C{i}") for i in range(cfg["counters"])
    ]
    s.unborn.update((child, orphan))
    m.spawn("fork:P", fork, s, child, True, cpu=cpu0, task=parent)
    if counters:
        m.spawn("M", close_all, s, [c.filp.value for c in counters])
    m.spawn("fork:Q", fork, s, orphan, False, task=lone)
    return s


MODEL = Model(
    name="perf_counter.fork_inherit",
    doc=__doc__ or "",
    setup=setup,
    follows="torvalds/linux a63eaf34 (post) and 34adc806 (pre): kernel/perf_counter.c",
    params=(
        Param("counters", 0, 0, 3, "inheritable counters on the forking task P"),
        Param("failures", 0, 0, 1, "1: explore kmalloc and PMU init failures"),
        preempt_param(),
    ),
    variants=variants("pre", "post"),
    properties=ALL,
    expectations=(
        Expectation("pre", True, reason="the child's context is embedded; nothing to leak"),
        Expectation(
            "post",
            False,
            ("no_leak",),
            "finding in a63eaf34: perf_counter_init_task kmallocs the child context "
            "before it looks at the parent's, and returns without kfree when the parent "
            "has no context or no counters: every fork of a task without counters leaks "
            "one perf_counter_context. (With --param counters=1 both versions also show "
            "inherit_counter resurrecting a closing fd: atomic_long_inc of f_count after "
            "the monitor's close dropped it to 0, so perf_release runs twice: bug_on, "
            "memory_safety.)",
            finding=True,
        ),
    ),
    cite=cite,
    max_steps=1000,
)
