"""perf_counter.open_errors: the error paths of sys_perf_counter_open, explored as choices.

Follows kernel/perf_counter.c at a63eaf34 (``post``), its parent 34adc806
(``pre``) and a63eaf34 with the attach-vs-exit fix c93f7669 (see
:mod:`models.perf_counter.kernel` for which lines of cf7a2b4f its steps
follow). Task T runs on cpu0. Monitor M, on cpu1, opens one counter on T
(``sys_perf_counter_open``) and keeps the fd; the other thread of M's process
may ``close`` that fd as soon as ``anon_inode_getfd`` has installed it (the
fd is visible in the shared file table from then on).

Choices explored (each 1 by default, 0 to leave it out):

* ``pmu``: the PMU init in ``perf_counter_alloc`` fails (no PMU for the
  event, or its init returns an error) after ``get_ctx`` took the counter's
  context reference; the counter is kfree'd and open returns the error;
* ``getfd``: ``anon_inode_getfd`` fails (``err_free_put_context``);
* ``closer``: the other thread closes the fd before ``fget_light`` looks it
  up: ``fget_light`` fails and open takes ``err_free_put_context`` for a
  counter that the close has already released (``perf_release``).

Left out, and why it cannot hide the error paths: the context switch and the
tick (the error paths never touch the per-CPU state), the group leader
lookup (no group), the task lookup and the ptrace check (no shared state).
Files are freed after a grace period, as the VFS frees them, because
``fget_light`` looks the fd up locklessly.

Expected: every version breaks on the close before ``fget_light``: open's
``err_free_put_context`` kfrees a counter the close already released
(memory_safety: a double free, or ``free_counter_rcu`` reading the counter
open freed); in ``pre`` the release's IPI also unlinks the counter that was
never installed (no guard in ``list_del_counter``: nr_counters goes to -1).
``post``: the PMU failure and the getfd failure each leak the counter's
context reference (kfree without ``put_ctx``: refcount_equals_references).
``c93f7669``: its error path puts the reference, so the failures alone are
clean, but after the close the reference is put twice (once by the release,
once by the error path): refcount_equals_references again.
"""

from __future__ import annotations

from ctxcheck import Config, Expectation, Kernel, Machine, Model, Param
from ctxcheck.kernel import Steps
from models.perf_counter.cite import cite
from models.perf_counter.kernel import fput, sys_perf_counter_open, task_struct
from models.perf_counter.system import PerfSystem, fd_slot, new_system, new_task, variants
from properties import ALL
from properties.enable import late_start


def monitor_open(k: Kernel, s: PerfSystem, target: task_struct, fdt: fd_slot) -> Steps:
    """M: ``perf_counter_open(pid=T)``; the fd stays open."""
    yield from sys_perf_counter_open(k, s, target, fdt=fdt)


def close_fd(k: Kernel, s: PerfSystem, fdt: fd_slot) -> Steps:
    """The other thread of M's process: ``close(fd)`` once the fd is installed."""
    filp = yield k.xchg(fdt.fd, None)
    if filp is not None:
        yield from fput(k, s, filp)


def setup(m: Machine, cfg: Config) -> PerfSystem:
    s = new_system(m, cfg, 2, late_start=late_start)
    s.pmu_failures = bool(cfg["pmu"])
    s.getfd_failures = bool(cfg["getfd"])
    s.file_rcu = True
    cpu0, cpu1 = s.cpus
    target = new_task(m, s, "T", cpu0, current=True)
    mon = new_task(m, s, "M", cpu1, current=True)
    fdt = m.new(fd_slot, name="M.fd")
    m.spawn("open", monitor_open, s, target, fdt, cpu=cpu1, task=mon)
    if cfg["closer"]:
        m.spawn("close", close_fd, s, fdt)
    return s


MODEL = Model(
    name="perf_counter.open_errors",
    doc=__doc__ or "",
    setup=setup,
    follows="torvalds/linux a63eaf34 (post), 34adc806 (pre), c93f7669 applied to "
    "a63eaf34 (c93f7669): kernel/perf_counter.c",
    params=(
        Param("pmu", 1, 0, 1, "1: explore the PMU init failing in perf_counter_alloc"),
        Param("getfd", 1, 0, 1, "1: explore anon_inode_getfd failing"),
        Param("closer", 1, 0, 1, "1: another thread of the monitor closes the new fd"),
    ),
    variants=variants("pre", "post", "c93f7669"),
    properties=ALL,
    expectations=(
        Expectation(
            "pre",
            False,
            ("memory_safety", "nr_counters_matches"),
            "finding in the parent commit too: a close of the new fd before fget_light "
            "releases the counter, then open's error path kfrees it again; the release "
            "IPI unlinks the never-linked counter (nr_counters -1)",
            finding=True,
        ),
        Expectation(
            "post",
            False,
            ("memory_safety", "refcount_equals_references"),
            "finding in a63eaf34: the PMU init and anon_inode_getfd failures kfree the "
            "counter without put_ctx, so get_ctx's reference leaks; a close of the fd "
            "before fget_light makes open free a released counter a second time",
            finding=True,
        ),
        Expectation(
            "c93f7669",
            False,
            ("memory_safety", "refcount_equals_references"),
            "c93f7669's put_ctx on the error path closes the two leaks; the close before "
            "fget_light remains: the counter is freed twice and its context reference "
            "put twice",
            finding=True,
        ),
    ),
    cite=cite,
    max_steps=1000,
)
