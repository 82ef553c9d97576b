"""perf_counter.ctx_lifetime: open, close and task exit together.

Follows kernel/perf_counter.c at a63eaf34 (``post``) and its parent 34adc806
(``pre``). Task T, current on cpu0, runs ``do_exit`` (``perf_counter_exit_task``
and its last context switch) while ``openers`` monitors each open a counter
on T (``sys_perf_counter_open``) and close it again (``fput`` ->
``perf_release`` -> ``free_counter`` -> ``free_counter_rcu`` after a grace
period, as its own thread). Every reference on a context is taken and
dropped: T's, each counter's, and ``find_get_context``'s callers (none).
With ``failures=1`` the kmalloc of a context or counter and
``anon_inode_getfd`` may fail (its error path, ``err_free_put_context``,
frees the counter without ``put_ctx``).

Left out, and why it cannot hide the races: task references (the task
structs outlive the run; ``put_context`` keeps its read of ``ctx->task``),
release_task and ``delayed_put_task_struct`` (its WARN_ON_ONCE on a
non-NULL ``perf_counter_ctxp`` is what no_leak reports here), the tick.

Expected: ``pre`` holds (the context is part of the task). ``post`` shows
findings of the real a63eaf34 code (see the report): ``perf_release`` calls
``put_context(ctx)`` after ``free_counter``, whose RCU callback may already
have dropped the last reference and freed the context (memory_safety), and
an open that runs after ``perf_counter_exit_task`` gives the exiting task a
new context that nobody frees (no_leak; in the kernel, the WARN in
``delayed_put_task_struct``). With ``failures=1`` the getfd error path leaks
a context reference (refcount_equals_references).
"""

from __future__ import annotations

from ctxcheck import Config, Expectation, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import do_exit, fput, sys_perf_counter_open, task_struct
from models.perf_counter.system import PerfSystem, new_system, new_task, variants
from properties import ALL
from properties.enable import late_start


def open_close(k: Kernel, s: PerfSystem, target: task_struct) -> Steps:
    """A monitor opens a counter on T and closes it again."""
    filp = yield from sys_perf_counter_open(k, s, target)
    if filp is not None:
        yield from fput(k, s, filp)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, cfg["cpus"], failures=bool(cfg["failures"]), late_start=late_start)
    s.getfd_failures = bool(cfg["failures"])
    cpu0 = s.cpus[0]
    target = new_task(m, s, "T", cpu0, current=True)
    for i in range(cfg["openers"]):
        cpu = s.cpus[i + 1] if i + 1 < len(s.cpus) else None
        mon = new_task(m, s, f"M{i}", cpu, current=cpu is not None)
        m.spawn(f"monitor{i}", open_close, s, target, cpu=cpu, task=mon)
    m.spawn("exit", do_exit, s, target, cpu=cpu0, task=target)
    return s


MODEL = Model(
    name="perf_counter.ctx_lifetime",
    doc=__doc__ or "",
    setup=setup,
    follows="torvalds/linux a63eaf34 (post) and 34adc806 (pre): kernel/perf_counter.c",
    params=(
        Param("openers", 1, 1, 4, "monitors that open and close a counter on T"),
        Param("cpus", 2, 1, 8, "CPUs: T on cpu0, monitor i on cpu i+1 if it exists"),
        Param("failures", 0, 0, 1, "1: explore kmalloc and anon_inode_getfd failures"),
    ),
    variants=variants("pre", "post"),
    properties=ALL,
    expectations=(
        Expectation(
            "pre",
            False,
            ("list_integrity",),
            "the double list_del_counter of the parent commit: exit's unguarded walk and "
            "the release IPI both unlink the counter (the race a63eaf34 fixes)",
        ),
        Expectation(
            "post",
            False,
            ("memory_safety", "consistent_cpuctx", "no_leak"),
            "finding in a63eaf34: find_get_context reads task->perf_counter_ctxp with no "
            "reference; the task exits, perf_counter_exit_task drops the last reference "
            "and kfrees the context, then perf_counter_alloc's get_ctx increments freed "
            "memory. The same attach-vs-exit race, other schedules: the install IPI "
            "adopts the context after exit cleared perf_counter_ctxp (cpuctx->task_ctx "
            "left pointing at it: consistent_cpuctx), and the context exit no longer "
            "owns is never freed (no_leak). Upstream later made find_get_context check "
            "PF_EXITING.",
            finding=True,
        ),
    ),
    cite=cite,
    max_steps=1000,
)
