"""perf_counter.double_del: task exit against the close of a counter's fd.

Follows kernel/perf_counter.c at a63eaf34 (``post``), its parent 34adc806
(``pre``) and a63eaf34 with c93f7669 applied (``c93f7669``; see
ctx_lifetime for what that variant changes). Task T, current on cpu0, has
``counters`` counters opened on it by monitors (each ACTIVE on cpu0, each fd
held by its own monitor thread). T runs ``do_exit``
(``perf_counter_exit_task`` -> ``__perf_counter_exit_task`` ->
``list_del_counter``, then its last context switch, to idle) while each
monitor closes its fd (``fput`` -> ``perf_release`` ->
``perf_counter_remove_from_context``, whose IPI runs
``__perf_counter_remove_from_context`` -> ``list_del_counter`` on cpu0 while
T is still current there).

Left out, and why it cannot hide the race: everything of do_exit but
PF_EXITING, the perf hook and the last schedule() (no other part touches the
counters); the tick and other context switches (T exits while current, which
is the case the commit message describes).

Expected: ``pre`` unlinks a counter twice: exit unlinks it with IRQs off and
no lock, ``cpuctx->task_ctx`` still names T's context, so the release IPI
passes its check and runs ``list_del_counter`` again (list_integrity: the
``event_entry`` is already poisoned; nr_counters would go to -1). In
``post`` the double unlink is gone; what remains is a finding of a63eaf34
itself: ``perf_release`` calls ``put_context(ctx)`` after ``free_counter``,
whose RCU callback may have dropped the last reference and freed the context
(memory_safety). That needs a preemptible kernel: with ``preempt=0`` the
releasing CPU passes no quiescent state between ``call_rcu`` and
``put_context``, no grace period ends there, and post holds (tested).
``c93f7669`` does not touch perf_release, so the finding remains there (at
cf7a2b4f perf_release no longer reads the context after free_counter).
``mutant-no-list-empty-check`` shows only that finding: an
equivalent mutant (the search is exhaustive at the defaults). Two other
mechanisms of a63eaf34 already keep the second unlink away: exit holds
``ctx->mutex`` over its loop, as perf_release does, and exit first sets
``cpuctx->task_ctx`` to NULL, so the release IPI returns at once and the
locked path tests ``list_empty`` itself. ``mutant-no-guard-no-exit-mutex``
removes the guard and exit's ``ctx->mutex``: exit takes the counter off the
list walk, the release unlinks it, and exit unlinks it again once it gets
``counter->mutex`` (list_integrity), or touches it after its RCU free
(memory_safety).
"""

from __future__ import annotations

from ctxcheck import Config, Expectation, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import do_exit, file, fput
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


def monitor_close(k: Kernel, s: PerfSystem, filp: file) -> Steps:
    """A monitor closes the counter's fd: ``close(fd)`` -> ``fput``."""
    yield from fput(k, s, filp)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, cfg["cpus"], late_start=late_start)
    cpu0 = s.cpus[0]
    target = new_task(m, s, "T", cpu0, current=True)
    for i in range(cfg["counters"]):
        counter = opened_counter(m, s, target, name=f"C{i}")
        cpu = s.cpus[i + 1] if i + 1 < len(s.cpus) else None
        mon = new_task(m, s, f"M{i}", cpu, current=cpu is not None)
        m.spawn(f"close{i}", monitor_close, s, counter.filp.value, cpu=cpu, task=mon)
    m.spawn("exit", do_exit, s, target, cpu=cpu0, task=target)
    return s


MODEL = Model(
    name="perf_counter.double_del",
    doc=__doc__ or "",
    setup=setup,
    follows="torvalds/linux a63eaf34 (post) and 34adc806 (pre): kernel/perf_counter.c",
    params=(
        Param("counters", 1, 1, 4, "counters on T, each closed by its own monitor"),
        Param("cpus", 2, 1, 8, "CPUs: T on cpu0, monitor i on cpu i+1 if it exists"),
        preempt_param(),
    ),
    variants=variants(
        "pre",
        "post",
        "mutant-no-list-empty-check",
        "mutant-no-guard-no-exit-mutex",
        "c93f7669",
    ),
    properties=ALL,
    expectations=(
        Expectation(
            "pre",
            False,
            ("list_integrity", "memory_safety"),
            "exit and the release IPI both unlink the counter (list_del_rcu through "
            "LIST_POISON2); and exit's safe walk holds a next pointer to a counter the "
            "release frees",
        ),
        Expectation(
            "post",
            False,
            ("memory_safety",),
            "finding in a63eaf34 (preemptible kernels, preempt=1): perf_release calls "
            "free_counter (call_rcu -> free_counter_rcu -> put_ctx) and then "
            "put_context(ctx), which reads ctx->task; once the task has exited the "
            "counter held the last reference, so after a grace period that read is a "
            "use after free. The double list_del itself no longer happens.",
            finding=True,
        ),
        Expectation(
            "mutant-no-list-empty-check",
            False,
            ("memory_safety",),
            "equivalent mutant: exit's ctx->mutex and its task_ctx = NULL already keep "
            "the second list_del_counter away; only post's perf_release finding remains",
            equivalent=True,
            finding=True,
        ),
        Expectation(
            "mutant-no-guard-no-exit-mutex",
            False,
            ("list_integrity",),
            "without the guard and the mutex, exit unlinks a counter the release "
            "unlinked: its list_del_rcu follows LIST_POISON2 (the double list_del of "
            "the parent commit, back)",
        ),
        Expectation(
            "c93f7669",
            False,
            ("memory_safety",),
            "c93f7669 leaves perf_release as it was: the read of ctx->task after "
            "free_counter remains (preempt=1); the context is now freed after a second "
            "grace period, which a preemptible kernel also lets pass",
            finding=True,
        ),
    ),
    cite=cite,
    max_steps=1000,
)
