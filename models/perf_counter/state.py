"""The state one run of a perf_counter scenario carries: :class:`PerfSystem`.

It holds the CPUs' ``perf_cpu_context``, the file-scope globals, which
version of the code runs (a :class:`~models.perf_counter.structs.Flavor`),
the configuration the scenario chose (failures explored, preemptible or not),
the tasks and files of the scenario, and a little bookkeeping the properties
read (who holds a context reference that the kernel does not name in memory,
which contexts are still private to their creator). The bookkeeping is
updated by the model code right after the step it belongs to, never as a
step of its own.

It imports no property: the judgement of a late start (``prompt_enable``)
is handed in by the scenario (``late_start``), so the code of the model and
the properties that judge it stay apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ctxcheck import CPU, Kernel, Machine
from ctxcheck.kernel import Steps
from models.perf_counter.structs import (
    Flavor,
    file,
    perf_counter,
    perf_counter_context,
    perf_cpu_context,
    perf_globals,
    task_struct,
)

#: ``late_start(system, counter, what) -> message | None``, judged in one step
LateStart = Callable[["PerfSystem", perf_counter, str], "str | None"]


@dataclass
class PerfSystem:
    """One run's kernel state, plus the bookkeeping the properties read."""

    machine: Machine
    v: Flavor
    variant: str
    cpus: list[CPU]
    cpuctx: list[perf_cpu_context]
    perf: perf_globals
    #: explore kmalloc failures of contexts and counters
    failures: bool = False
    #: the scenario runs the tick, so the global nr_counters is kept
    tick: bool = False
    #: explore anon_inode_getfd failing in sys_perf_counter_open
    getfd_failures: bool = False
    #: explore the PMU init failing in perf_counter_alloc (after get_ctx)
    pmu_failures: bool = False
    #: 1: a preemptible kernel (a grace period may end anywhere a task is
    #: preempted); 0: not (a CPU passes no quiescent state inside a syscall)
    preempt: bool = True
    #: files are looked up without a lock (fget_light), so they are freed through RCU
    file_rcu: bool = False
    #: software events are delivered (perf_swcounter_event at context switch)
    sw_events: bool = False
    tasks: list[task_struct] = field(default_factory=list)
    files: list[file] = field(default_factory=list)
    #: contexts allocated but not yet published (their creator holds the reference)
    creating: set[perf_counter_context] = field(default_factory=set)
    #: contexts whose task reference perf_counter_exit_task holds after unhooking them
    exit_holding: set[perf_counter_context] = field(default_factory=set)
    #: c93f7669: references find_get_context took for an opener (one entry each)
    opening: list[perf_counter_context] = field(default_factory=list)
    #: tasks being forked: their context is private to the parent until they run
    unborn: set[task_struct] = field(default_factory=set)
    #: messages of counters found not counting when open/enable returned
    prompt_failures: list[str] = field(default_factory=list)
    #: the judgement of prompt_enable (the scenario passes properties.enable's)
    late_start: LateStart | None = None

    def observe_enabled(self, k: Kernel, counter: perf_counter, what: str) -> Steps:
        """Right after ``what`` returned: record whether ``counter`` counts.

        One observation step judges it (``k.judge``: the step conflicts only
        with what the judgement read). Without a ``late_start`` judgement
        (a scenario without prompt_enable) there is no step.
        """
        judge = self.late_start
        if judge is None:
            return

        def waiting() -> str | None:
            return judge(self, counter, what)

        failure = yield k.judge(waiting, label=f"{what} returned")
        if failure is not None:
            self.prompt_failures.append(failure)

    def current_ctx(self, task: task_struct) -> perf_counter_context | None:
        """The task's context now: ``perf_counter_ctxp`` or the embedded one."""
        if self.v.dynamic_ctx:
            ctx = task.perf_counter_ctxp.value
            return ctx if isinstance(ctx, perf_counter_context) else None
        embedded = task.perf_counter_ctx
        assert isinstance(embedded, perf_counter_context)
        return embedded

    # -- what the reusable properties read -------------------------------
    def contexts(self) -> list[perf_counter_context]:
        """Every context of the run: heap ones and embedded ones."""
        out = [o for o in self.machine.heap if isinstance(o, perf_counter_context)]
        if not self.v.dynamic_ctx:
            out = [t.perf_counter_ctx for t in self.tasks] + out
        return out

    def counters(self) -> list[perf_counter]:
        """Every counter ever allocated in the run."""
        return [o for o in self.machine.heap if isinstance(o, perf_counter)]

    def task_exited(self, task: task_struct) -> bool:
        """The task went through do_exit and was switched out for good."""
        thread = self.machine.thread_of(task)
        return bool(task.exiting.value) and (thread is None or thread.finished)


def name_of(x: Any) -> str:
    """An object's name for a message (``NULL`` for None)."""
    return "NULL" if x is None else str(getattr(x, "name", x))
