"""perf_counter.ctx_lifetime: open, close and task exit together.

Follows kernel/perf_counter.c at a63eaf34 (``post``), its parent 34adc806
(``pre``), and a63eaf34 with the upstream attach-vs-exit fix c93f7669
applied (``c93f7669``). Task T, current on cpu0, runs ``do_exit``
(``perf_counter_exit_task`` and its last context switch) while ``openers``
monitors each open a counter on T (``sys_perf_counter_open``) and close it
again (``fput`` -> ``perf_release`` -> ``free_counter`` -> ``free_counter_rcu``
after a grace period, as its own thread). Every reference on a context is
taken and dropped: T's, each counter's, and (c93f7669) find_get_context's
caller's. With ``failures=1`` the kmalloc of a context or counter, the PMU
init in ``perf_counter_alloc`` and ``anon_inode_getfd`` may fail (their
error paths are also explored on their own, with a concurrent close, in
``open_errors``; the proof runs this model at ``failures=0`` so that its
minimal traces show the attach-vs-exit race, not the error-path leaks).
``preempt=0`` is a non-preemptible kernel (see ``perf_release``).

The c93f7669 variant: find_get_context tests PF_EXITING, then takes its
reference with atomic_inc_not_zero under ``ctx->lock`` after re-reading the
pointer (``perf_lock_task_context``), or publishes a new context holding the
caller's reference; ``perf_counter_exit_task`` clears the pointer under
``ctx->lock``; ``put_ctx`` frees through RCU (``free_ctx``); open's error
path puts the caller's reference. Its steps cite cf7a2b4f (the stored file
after the fix) where that file has them on its first 638 lines
(``get_ctx``, ``free_ctx``, ``put_ctx``, ``perf_lock_task_context``), and
a63eaf34 elsewhere; the PF_EXITING test, the new context's publication and
the unhooking under the lock follow cf7a2b4f's ``find_get_context`` and
``perf_counter_exit_task`` without a cited line. Everything else is a63eaf34's
code, ``perf_release``'s ``put_context`` after ``free_counter`` included (at
cf7a2b4f ``perf_release`` no longer calls it).

Left out, and why it cannot hide the races: task references (the task
structs outlive the run; ``put_context`` keeps its read of ``ctx->task``),
release_task and ``delayed_put_task_struct`` (its WARN_ON_ONCE on a
non-NULL ``perf_counter_ctxp`` is what no_leak reports here), the tick.

Expected: ``pre`` unlinks a counter twice (exit's unguarded walk against the
release IPI: the race a63eaf34 fixes). ``post`` shows findings of the real
a63eaf34 code (see the report): find_get_context's unreferenced read of
``perf_counter_ctxp`` lets exit free the context before ``get_ctx``
(memory_safety), the install IPI adopts a context exit already unhooked
(consistent_cpuctx), and an open that creates a context after exit leaves it
to nobody (no_leak). ``c93f7669`` closes the first; the other two remain (the
PF_EXITING test comes before the context is looked up, so an opener that
passed it still races with the whole of exit), and perf_release's read of
``ctx->task`` after a grace period (double_del's finding) shows here too.
"""

from __future__ import annotations

from ctxcheck import Config, Expectation, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import do_exit, fput, sys_perf_counter_open, task_struct
from models.perf_counter.system import PerfSystem, new_system, new_task, preempt_param, variants
from properties import ALL
from properties.enable import late_start


def open_close(k: Kernel, s: PerfSystem, target: task_struct) -> Steps:
    """A monitor opens a counter on T and closes it again."""
    filp = yield from sys_perf_counter_open(k, s, target)
    if filp is not None:
        yield from fput(k, s, filp)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, cfg["cpus"], failures=bool(cfg["failures"]), late_start=late_start)
    s.getfd_failures = s.pmu_failures = bool(cfg["failures"])
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
        Param("failures", 0, 0, 1, "1: explore kmalloc, PMU init and anon_inode_getfd failures"),
        preempt_param(),
    ),
    variants=variants("pre", "post", "c93f7669"),
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
            "left pointing at it: consistent_cpuctx), and a "
            "context created after exit is never freed (no_leak). Fixed upstream by "
            "c93f7669 in part (variant c93f7669).",
            finding=True,
        ),
        Expectation(
            "c93f7669",
            False,
            ("consistent_cpuctx", "no_leak"),
            "the fix closes the use after free of get_ctx (the reference is taken with "
            "atomic_inc_not_zero under ctx->lock); an opener that passed the PF_EXITING "
            "test before exit began still installs into the unhooked context or gives "
            "the exiting task a new one: consistent_cpuctx and no_leak remain. "
            "memory_safety here is perf_release's read of ctx->task after free_counter "
            "(double_del's finding, preempt=1), which this variant leaves as it was",
            finding=True,
        ),
    ),
    cite=cite,
    max_steps=1000,
)
