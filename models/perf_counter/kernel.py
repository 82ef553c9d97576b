"""kernel/perf_counter.c at a63eaf34 and at its parent 34adc806, as ctxcheck generators.

Every function below has the name of the kernel function it models and takes
its steps in the kernel's order: reads, writes, locks, IRQ state, IPIs and
frees. The first two arguments are the thread's kernel handle ``k`` and the
:class:`~models.perf_counter.system.PerfSystem` ``s`` (per-CPU data, globals
and which version of the code runs); the rest are the C arguments. Line
numbers in comments (``# L1244``) are those of kernel/perf_counter.c at
a63eaf34 (``post``); ``pre`` line numbers are given where the code differs.

The two versions differ by switches on ``s.v`` (a :class:`Flavor`), each
marked with the hunk of the patch it stands for, so one mutant removes one
hunk. Simplified, because none of it can change which counter sits on which
list, which context is installed where, or who frees what:

* the hardware PMU: ``pmu->enable`` always succeeds and ``pmu->disable`` is
  the state change; a counter on the PMU is ``state == ACTIVE`` plus the
  ``nr_active``/``active_oncpu`` bookkeeping. ``perf_disable()``/
  ``perf_enable()`` (a per-CPU nesting count for NMI-based PMUs) are left out.
* times (``update_context_time``, ``update_counter_times``, ``tstamp_*``),
  counts, ``perf_adjust_freq`` (no counter is in frequency mode), software
  event delivery (``perf_swcounter_event``), mmap, comm and the read path.
* groups: every counter is its own group leader with an empty sibling list,
  so ``group_sched_in/out`` are ``counter_sched_in/out`` of the leader, the
  sibling walks are empty, ``group_can_go_on`` is 1 (nothing is exclusive or
  pinned) and the pinned pass of ``__perf_counter_sched_in`` skips every counter.
* per-CPU counters (``cpu != -1``): the per-CPU context stays empty, so
  ``perf_counter_cpu_sched_out/in`` and the CPU-context half of the tick are
  left out.
* the global ``nr_counters`` (and the mmap/comm tracking counts) are kept
  only in scenarios with a tick (``s.tick``): nothing else reads them, and two
  increments commute, so without a reader they only multiply the schedules.
* task references (``get_task_struct``/``put_task_struct``): the task structs
  outlive every model; ``put_context`` keeps its read of ``ctx->task``.
* initialising private memory (``kzalloc`` + ``__perf_counter_init_context``
  before the object is published, ordered by ``smp_wmb``) is part of the
  allocation step: no other thread can see the object before that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctxcheck import (
    Cell,
    Kernel,
    ListHead,
    Mutex,
    Spinlock,
    Struct,
    TaskStruct,
    field,
    list_head,
    mutex,
    spinlock,
)
from ctxcheck.kernel import Steps

if TYPE_CHECKING:
    from models.perf_counter.system import PerfSystem

# enum perf_counter_active_state (include/linux/perf_counter.h)
PERF_COUNTER_STATE_ERROR = -2
PERF_COUNTER_STATE_OFF = -1
PERF_COUNTER_STATE_INACTIVE = 0
PERF_COUNTER_STATE_ACTIVE = 1


@dataclass(frozen=True)
class Flavor:
    """Which hunks of a63eaf34 are present. ``pre`` has none, ``post`` all."""

    #: task->perf_counter_ctxp, kmalloc'ed and refcounted (else the embedded ctx)
    dynamic_ctx: bool
    #: find_get_context publishes the ctx with cmpxchg (else check-then-store)
    cmpxchg: bool = True
    #: list_del_counter returns early for an unlinked counter
    list_empty_check: bool = True
    #: __perf_install_in_context adopts a NULL cpuctx->task_ctx, sets is_active
    install_task_ctx: bool = True
    #: __perf_counter_enable adopts a NULL cpuctx->task_ctx, sets is_active
    enable_task_ctx: bool = True
    #: perf_counter_exit_task holds ctx->mutex around the unlinking loop
    exit_ctx_mutex: bool = True


PRE = Flavor(
    dynamic_ctx=False,
    list_empty_check=False,
    install_task_ctx=False,
    enable_task_ctx=False,
    exit_ctx_mutex=False,
)
POST = Flavor(dynamic_ctx=True)

#: every variant name any scenario may offer, with its code
FLAVORS: dict[str, Flavor] = {
    "pre": PRE,
    "post": POST,
    "mutant-no-cmpxchg": Flavor(dynamic_ctx=True, cmpxchg=False),
    "mutant-no-list-empty-check": Flavor(dynamic_ctx=True, list_empty_check=False),
    "mutant-no-install-task-ctx": Flavor(dynamic_ctx=True, install_task_ctx=False),
    "mutant-no-enable-task-ctx": Flavor(dynamic_ctx=True, enable_task_ctx=False),
    "mutant-no-list-empty-check-no-exit-mutex": Flavor(
        dynamic_ctx=True, list_empty_check=False, exit_ctx_mutex=False
    ),
    "mutant-no-exit-mutex": Flavor(dynamic_ctx=True, exit_ctx_mutex=False),
}

VARIANT_DOCS: dict[str, str] = {
    "pre": "the parent commit 34adc806: context embedded in task_struct",
    "post": "a63eaf34: kmalloc'ed, refcounted context published with cmpxchg",
    "mutant-no-cmpxchg": "a63eaf34 with task->perf_counter_ctxp set by check-then-store",
    "mutant-no-list-empty-check": "a63eaf34 without the list_empty guard in list_del_counter",
    "mutant-no-install-task-ctx": "a63eaf34 without the cpuctx->task_ctx adoption and "
    "is_active = 1 in __perf_install_in_context",
    "mutant-no-enable-task-ctx": "a63eaf34 without the cpuctx->task_ctx adoption and "
    "is_active = 1 in __perf_counter_enable",
    "mutant-no-list-empty-check-no-exit-mutex": "a63eaf34 without the list_empty guard and "
    "without ctx->mutex in perf_counter_exit_task (both mechanisms removed)",
    "mutant-no-exit-mutex": "a63eaf34 without ctx->mutex in perf_counter_exit_task "
    "(the guard alone)",
}


# ---------------------------------------------------------------- structs


class perf_counter_context(Struct):
    """struct perf_counter_context (include/linux/perf_counter.h)."""

    _label = "ctx"
    lock: Spinlock = spinlock()
    mutex: Mutex = mutex()
    counter_list: ListHead = list_head()
    event_list: ListHead = list_head()
    nr_counters: Cell = field(0)
    nr_active: Cell = field(0)
    is_active: Cell = field(0)
    #: atomic_t refcount (a63eaf34 only; __perf_counter_init_context sets 1)
    refcount: Cell = field(1)
    task: Cell = field(None)
    #: model bookkeeping, not kernel memory: list_add_counter/list_del_counter
    #: calls between their first and last write of the lists and nr_counters
    #: (nr_counters_matches is judged only when none is)
    listing = 0


class perf_counter(Struct):
    """struct perf_counter: the fields the context code touches.

    ``group_leader`` is the counter itself (groups are not modelled) and
    ``inherit`` is ``hw_event.inherit``; both are constant for its life.
    ``ctx_ref`` is model bookkeeping, not kernel state: True from the
    ``get_ctx`` of ``perf_counter_alloc`` until the ``put_ctx`` of
    ``free_counter_rcu``, for the refcount property.
    """

    _label = "counter"
    list_entry: ListHead = list_head()
    event_entry: ListHead = list_head()
    sibling_list: ListHead = list_head()
    child_list: ListHead = list_head()
    mutex: Mutex = mutex()
    state: Cell = field(PERF_COUNTER_STATE_INACTIVE)
    oncpu: Cell = field(-1)
    ctx: Cell = field(None)
    filp: Cell = field(None)
    parent: Cell = field(None)
    #: counter->task, written but never read (34adc806 only; removed by the patch)
    task: Cell = field(None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("inherit", False)
        kwargs.setdefault("ctx_ref", False)
        super().__init__(*args, **kwargs)
        self.group_leader = self


class file(Struct):
    """struct file of a counter's fd: ``f_count`` and ``private_data``."""

    _label = "file"
    f_count: Cell = field(1)
    private_data: Cell = field(None)


class perf_cpu_context(Struct):
    """struct perf_cpu_context: the per-CPU ``task_ctx`` and PMU bookkeeping."""

    _label = "cpuctx"
    task_ctx: Cell = field(None)
    active_oncpu: Cell = field(0)


class perf_globals(Struct):
    """The file-scope atomics of perf_counter.c that gate the tick."""

    _label = "perf"
    nr_counters: Cell = field(0)


class task_struct(TaskStruct):
    """The perf part of task_struct.

    a63eaf34: ``perf_counter_ctxp``, a pointer, NULL until a context is made.
    34adc806: ``perf_counter_ctx``, the embedded context (set by the scenario
    as a constant attribute: its address never changes).
    """

    perf_counter_ctxp: Cell = field(None)


def counter_of(node: ListHead) -> perf_counter:
    """``list_entry(node, struct perf_counter, list_entry)``."""
    owner = node.owner
    assert isinstance(owner, perf_counter)
    return owner


# ------------------------------------------------------------ small helpers


def _add(k: Kernel, cell: Cell, delta: int) -> Steps:
    """``x += delta`` on a plain int: a load and a store (callers hold the lock)."""
    value = yield k.load(cell)
    yield k.store(cell, value + delta)


def task_context(k: Kernel, s: PerfSystem, task: task_struct) -> Steps:
    """``task->perf_counter_ctxp`` (a load) or ``&task->perf_counter_ctx`` (no step)."""
    if s.v.dynamic_ctx:
        ctx = yield k.load(task.perf_counter_ctxp)
        return ctx
    return task.perf_counter_ctx


def this_cpuctx(k: Kernel, s: PerfSystem) -> perf_cpu_context:
    """``&__get_cpu_var(perf_cpu_context)``."""
    assert k.cpu is not None, "per-CPU code runs on a tracked CPU"
    return s.cpuctx[k.cpu.index]


def get_ctx(k: Kernel, ctx: perf_counter_context) -> Steps:
    """get_ctx (L100), a63eaf34."""
    yield k.atomic_inc(ctx.refcount)


def put_ctx(k: Kernel, ctx: perf_counter_context, dropped: Callable[[], None]) -> Steps:
    """put_ctx (L105), a63eaf34: the last reference frees, without RCU.

    ``dropped`` is model bookkeeping run right after the decrement: it says
    whose reference that was, for the refcount property.
    """
    last = yield k.atomic_dec_and_test(ctx.refcount)
    dropped()
    if last:
        yield k.kfree(ctx)


# ------------------------------------------------------------------ lists


def list_add_counter(k: Kernel, counter: perf_counter, ctx: perf_counter_context) -> Steps:
    """list_add_counter (L112); the counter leads its own group."""
    ctx.listing += 1
    yield k.list_add_tail(counter.list_entry, ctx.counter_list)  # L124
    yield k.list_add_rcu(counter.event_entry, ctx.event_list)  # L130
    yield from _add(k, ctx.nr_counters, 1)  # L131
    ctx.listing -= 1


def list_del_counter(
    k: Kernel, s: PerfSystem, counter: perf_counter, ctx: perf_counter_context
) -> Steps:
    """list_del_counter (L137); the sibling walk is empty (no groups)."""
    # hunk @@ -118: the new guard, L141
    if s.v.list_empty_check and (yield k.list_empty(counter.list_entry)):
        return
    ctx.listing += 1
    yield from _add(k, ctx.nr_counters, -1)  # L143
    yield k.list_del_init(counter.list_entry)  # L145
    yield k.list_del_rcu(counter.event_entry)  # L146
    ctx.listing -= 1


def add_counter_to_ctx(k: Kernel, counter: perf_counter, ctx: perf_counter_context) -> Steps:
    """add_counter_to_ctx (L558): list_add_counter; the timestamps are not modelled."""
    yield from list_add_counter(k, counter, ctx)


# ---------------------------------------------------------------- the PMU


def counter_sched_out(
    k: Kernel, counter: perf_counter, cpuctx: perf_cpu_context, ctx: perf_counter_context
) -> Steps:
    """counter_sched_out (L165), also group_sched_out of a lone leader (L185)."""
    state = yield k.load(counter.state)
    if state != PERF_COUNTER_STATE_ACTIVE:
        return
    yield k.store(counter.state, PERF_COUNTER_STATE_INACTIVE)  # L172
    yield k.store(counter.oncpu, -1)  # L175: after pmu->disable
    yield from _add(k, cpuctx.active_oncpu, -1)  # L178
    yield from _add(k, ctx.nr_active, -1)  # L179


def counter_sched_in(
    k: Kernel,
    counter: perf_counter,
    cpuctx: perf_cpu_context,
    ctx: perf_counter_context,
    cpu: int,
) -> Steps:
    """counter_sched_in (L428), also group_sched_in of a lone leader (L462)."""
    state = yield k.load(counter.state)
    if state <= PERF_COUNTER_STATE_OFF:
        return 0
    yield k.store(counter.state, PERF_COUNTER_STATE_ACTIVE)  # L435
    yield k.store(counter.oncpu, cpu)  # L436; pmu->enable succeeds
    yield from _add(k, cpuctx.active_oncpu, 1)  # L450
    yield from _add(k, ctx.nr_active, 1)  # L451
    return 0


# ------------------------------------------------------- remove (release)


def __perf_counter_remove_from_context(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """__perf_counter_remove_from_context (L212): the IPI handler."""
    cpuctx = this_cpuctx(k, s)
    ctx = yield k.load(counter.ctx)
    task = yield k.load(ctx.task)
    if task is not None:  # L223
        task_ctx = yield k.load(cpuctx.task_ctx)
        if task_ctx is not ctx:
            return
    flags = yield from k.spin_lock_irqsave(ctx.lock)  # L226
    yield from counter_sched_out(k, counter, cpuctx, ctx)  # L233
    if not s.v.dynamic_ctx:  # hunk @@ -216: counter->task = NULL (34adc806 L218)
        yield k.store(counter.task, None)
    yield from list_del_counter(k, s, counter, ctx)  # L236
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # L249


def perf_counter_remove_from_context(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """perf_counter_remove_from_context (L261); callers hold the mutexes."""
    ctx = yield k.load(counter.ctx)
    task = yield k.load(ctx.task)
    while True:  # retry: L277
        yield from k.task_oncpu_function_call(task, __perf_counter_remove_from_context, s, counter)
        yield from k.spin_lock_irq(ctx.lock)  # L281
        nr_active = yield k.load(ctx.nr_active)  # L285
        if nr_active and not (yield k.list_empty(counter.list_entry)):
            yield from k.spin_unlock_irq(ctx.lock)
            continue
        if not (yield k.list_empty(counter.list_entry)):  # L295
            yield from list_del_counter(k, s, counter, ctx)
            if not s.v.dynamic_ctx:  # hunk @@ -279: counter->task = NULL
                yield k.store(counter.task, None)
        yield from k.spin_unlock_irq(ctx.lock)
        return


# --------------------------------------------------------------- install


def _adopt_task_ctx(k: Kernel, s: PerfSystem, ctx: perf_counter_context, adopt: bool) -> Steps:
    """The "is this my context?" test of the IPI handlers; True to go on.

    With ``adopt`` (hunks @@ -568 and @@ -693), a NULL ``cpuctx->task_ctx``
    is taken over when ``ctx->task == current``.
    """
    cpuctx = this_cpuctx(k, s)
    task = yield k.load(ctx.task)
    if task is None:
        return True
    task_ctx = yield k.load(cpuctx.task_ctx)
    if task_ctx is ctx:
        return True
    if not adopt:
        return False
    if task_ctx is not None or task is not k.current:
        return False
    yield k.store(cpuctx.task_ctx, ctx)
    return True


def __perf_install_in_context(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """__perf_install_in_context (L571): the IPI handler (or local call)."""
    cpuctx = this_cpuctx(k, s)
    assert k.cpu is not None
    ctx = yield k.load(counter.ctx)
    # hunk @@ -568: adopt a NULL task_ctx (L584-L590)
    if not (yield from _adopt_task_ctx(k, s, ctx, s.v.install_task_ctx)):
        return
    flags = yield from k.spin_lock_irqsave(ctx.lock)  # L592
    if s.v.install_task_ctx:  # hunk @@ -568: ctx->is_active = 1 (L593)
        yield k.store(ctx.is_active, 1)
    yield from add_counter_to_ctx(k, counter, ctx)  # L602
    state = yield k.load(counter.state)  # L608
    if state == PERF_COUNTER_STATE_INACTIVE:
        # group_can_go_on is 1; counter_sched_in succeeds (L617-L620)
        yield from counter_sched_in(k, counter, cpuctx, ctx, k.cpu.index)
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # L642


def perf_install_in_context(
    k: Kernel, s: PerfSystem, ctx: perf_counter_context, counter: perf_counter
) -> Steps:
    """perf_install_in_context (L660); the caller holds ctx->mutex."""
    task = yield k.load(ctx.task)  # L664
    if not s.v.dynamic_ctx:  # hunk @@ -653: counter->task = task (34adc806 L656)
        yield k.store(counter.task, task)
    while True:  # retry: L676
        yield from k.task_oncpu_function_call(task, __perf_install_in_context, s, counter)
        yield from k.spin_lock_irq(ctx.lock)  # L680
        is_active = yield k.load(ctx.is_active)  # L684
        if is_active and (yield k.list_empty(counter.list_entry)):
            yield from k.spin_unlock_irq(ctx.lock)
            continue
        if (yield k.list_empty(counter.list_entry)):  # L694
            yield from add_counter_to_ctx(k, counter, ctx)
        yield from k.spin_unlock_irq(ctx.lock)  # L696
        return


# ---------------------------------------------------------------- enable


def __perf_counter_enable(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """__perf_counter_enable (L702): the IPI handler (or local call)."""
    cpuctx = this_cpuctx(k, s)
    assert k.cpu is not None
    ctx = yield k.load(counter.ctx)
    # hunk @@ -693: adopt a NULL task_ctx (L715-L719)
    if not (yield from _adopt_task_ctx(k, s, ctx, s.v.enable_task_ctx)):
        return
    flags = yield from k.spin_lock_irqsave(ctx.lock)  # L721
    if s.v.enable_task_ctx:  # hunk @@ -693: ctx->is_active = 1 (L722)
        yield k.store(ctx.is_active, 1)
    state = yield k.load(counter.state)  # L725
    if state < PERF_COUNTER_STATE_INACTIVE:
        yield k.store(counter.state, PERF_COUNTER_STATE_INACTIVE)  # L728
        # leader == counter, group_can_go_on is 1: group_sched_in (L742)
        yield from counter_sched_in(k, counter, cpuctx, ctx, k.cpu.index)
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # L767


def perf_counter_enable(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """perf_counter_enable (L771): ioctl(PERF_COUNTER_IOC_ENABLE)."""
    ctx = yield k.load(counter.ctx)
    task = yield k.load(ctx.task)  # L774
    yield from k.spin_lock_irq(ctx.lock)  # L785
    state = yield k.load(counter.state)
    if state < PERF_COUNTER_STATE_INACTIVE:
        if state == PERF_COUNTER_STATE_ERROR:  # L796
            yield k.store(counter.state, PERF_COUNTER_STATE_OFF)
        while True:  # retry: L799
            yield from k.spin_unlock_irq(ctx.lock)
            yield from k.task_oncpu_function_call(task, __perf_counter_enable, s, counter)
            yield from k.spin_lock_irq(ctx.lock)  # L803
            is_active = yield k.load(ctx.is_active)  # L809
            if is_active and (yield k.load(counter.state)) == PERF_COUNTER_STATE_OFF:
                continue
            break
        if (yield k.load(counter.state)) == PERF_COUNTER_STATE_OFF:  # L816
            yield k.store(counter.state, PERF_COUNTER_STATE_INACTIVE)
    yield from k.spin_unlock_irq(ctx.lock)  # L822


# ------------------------------------------------------------ scheduling


def __perf_counter_sched_out(
    k: Kernel, ctx: perf_counter_context, cpuctx: perf_cpu_context
) -> Steps:
    """__perf_counter_sched_out (L839); IRQs are off."""
    yield k.spin_lock(ctx.lock)  # L844
    yield k.store(ctx.is_active, 0)  # L845
    # L846: nr_counters, then L851: nr_active
    if (yield k.load(ctx.nr_counters)) and (yield k.load(ctx.nr_active)):
        for node in (yield from k.list_entries(ctx.counter_list)):
            yield from counter_sched_out(k, counter_of(node), cpuctx, ctx)
    yield k.spin_unlock(ctx.lock)  # L861


def perf_counter_task_sched_out(k: Kernel, s: PerfSystem, task: task_struct | None) -> Steps:
    """perf_counter_task_sched_out (L875), from schedule() with IRQs off."""
    if task is None:
        return
    cpuctx = this_cpuctx(k, s)
    ctx = yield from task_context(k, s, task)  # L878 (34adc806: &task->perf_counter_ctx)
    if s.v.dynamic_ctx and ctx is None:  # hunk @@ -852: !ctx || ... (L881)
        return
    if (yield k.load(cpuctx.task_ctx)) is None:
        return
    yield from __perf_counter_sched_out(k, ctx, cpuctx)  # L888
    yield k.store(cpuctx.task_ctx, None)  # L890


def __perf_counter_task_sched_out(k: Kernel, s: PerfSystem, ctx: perf_counter_context) -> Steps:
    """__perf_counter_task_sched_out (L893), IRQs off."""
    cpuctx = this_cpuctx(k, s)
    # hunk @@ -871: if (!cpuctx->task_ctx) return (L897)
    if s.v.dynamic_ctx and (yield k.load(cpuctx.task_ctx)) is None:
        return
    yield from __perf_counter_sched_out(k, ctx, cpuctx)  # L899
    yield k.store(cpuctx.task_ctx, None)  # L900


def __perf_counter_sched_in(
    k: Kernel, ctx: perf_counter_context, cpuctx: perf_cpu_context, cpu: int
) -> Steps:
    """__perf_counter_sched_in (L909); the pinned pass skips every counter."""
    yield k.spin_lock(ctx.lock)  # L915
    yield k.store(ctx.is_active, 1)  # L916
    if (yield k.load(ctx.nr_counters)):  # L917
        for node in (yield from k.list_entries(ctx.counter_list)):  # L948
            yield from counter_sched_in(k, counter_of(node), cpuctx, ctx, cpu)
    yield k.spin_unlock(ctx.lock)  # L976


def perf_counter_task_sched_in(k: Kernel, s: PerfSystem, task: task_struct | None) -> Steps:
    """perf_counter_task_sched_in (L994), from finish_task_switch() with IRQs off."""
    if task is None:
        return
    assert k.cpu is not None
    cpuctx = this_cpuctx(k, s)
    ctx = yield from task_context(k, s, task)  # L997
    if s.v.dynamic_ctx and ctx is None:  # hunk @@ -969: if (likely(!ctx)) return
        return
    yield from __perf_counter_sched_in(k, ctx, cpuctx, k.cpu.index)  # L1001
    yield k.store(cpuctx.task_ctx, ctx)  # L1002


def rotate_ctx(k: Kernel, ctx: perf_counter_context) -> Steps:
    """rotate_ctx (L1128): move the first counter to the tail."""
    if not (yield k.load(ctx.nr_counters)):
        return
    yield k.spin_lock(ctx.lock)  # L1135
    first = yield k.list_next(ctx.counter_list)
    if first is not ctx.counter_list:
        yield k.list_move_tail(first, ctx.counter_list)
    yield k.spin_unlock(ctx.lock)


def perf_counter_task_tick(k: Kernel, s: PerfSystem, curr: task_struct | None) -> Steps:
    """perf_counter_task_tick (L1149), from the timer interrupt.

    The per-CPU context is empty, so its adjust/sched-out/rotate/sched-in are
    left out; perf_adjust_freq changes nothing without frequency counters.
    """
    if not (yield k.atomic_read(s.perf.nr_counters)):  # L1154
        return
    if curr is None:
        return
    ctx = yield from task_context(k, s, curr)  # L1158
    if ctx is None:
        return
    yield from __perf_counter_task_sched_out(k, s, ctx)  # L1165
    yield from rotate_ctx(k, ctx)  # L1169
    yield from perf_counter_task_sched_in(k, s, curr)  # L1173


# ------------------------------------------------------------------ prctl


def perf_counter_task_disable(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_task_disable (L1012): prctl(PR_TASK_PERF_COUNTERS_DISABLE)."""
    curr = k.current
    ctx = yield from task_context(k, s, curr)  # L1015
    if ctx is None or not (yield k.load(ctx.nr_counters)):  # L1019
        return 0
    flags = yield k.local_irq_save()  # L1022
    yield from __perf_counter_task_sched_out(k, s, ctx)  # L1024
    yield k.spin_lock(ctx.lock)  # L1026
    for node in (yield from k.list_entries(ctx.counter_list)):  # L1033
        counter = counter_of(node)
        if (yield k.load(counter.state)) != PERF_COUNTER_STATE_ERROR:
            yield k.store(counter.state, PERF_COUNTER_STATE_OFF)  # L1036
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # L1042
    return 0


def perf_counter_task_enable(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_task_enable (L1047): prctl(PR_TASK_PERF_COUNTERS_ENABLE)."""
    curr = k.current
    ctx = yield from task_context(k, s, curr)  # L1050
    if ctx is None or not (yield k.load(ctx.nr_counters)):  # L1055
        return 0
    flags = yield k.local_irq_save()  # L1058
    yield from __perf_counter_task_sched_out(k, s, ctx)  # L1061
    yield k.spin_lock(ctx.lock)  # L1063
    for node in (yield from k.list_entries(ctx.counter_list)):  # L1070
        counter = counter_of(node)
        if (yield k.load(counter.state)) > PERF_COUNTER_STATE_OFF:
            continue
        yield k.store(counter.state, PERF_COUNTER_STATE_INACTIVE)  # L1073
    yield k.spin_unlock(ctx.lock)  # L1080
    yield from perf_counter_task_sched_in(k, s, curr)  # L1082
    yield k.local_irq_restore(flags)  # L1084
    return 0


# ------------------------------------------------------------ open / close


def __perf_counter_init_context(task: task_struct) -> dict[str, Any]:
    """__perf_counter_init_context (L1213): the fields a fresh context gets.

    It runs on memory no other CPU can see yet, so the model folds it into
    the allocation step (the kmalloc's initial values).
    """
    return {"refcount": 1, "task": task}


def find_get_context(k: Kernel, s: PerfSystem, task: task_struct) -> Steps:
    """find_get_context (L1232) for a task (pid != 0 or current; cpu == -1).

    Returns the context or None for -ENOMEM. The vpid lookup, the task
    reference and the ptrace check are left out (they decide nothing here).
    """
    if not s.v.dynamic_ctx:  # hunk @@ -1225: 34adc806 L1228-L1229
        ctx = task.perf_counter_ctx
        yield k.store(ctx.task, task)
        return ctx
    ctx = yield k.load(task.perf_counter_ctxp)  # L1282
    if ctx is None:
        ctx = yield k.kmalloc(  # L1284
            perf_counter_context, may_fail=s.failures, **__perf_counter_init_context(task)
        )
        if ctx is None:
            return None  # -ENOMEM (L1286)
        s.creating.add(ctx)  # bookkeeping: the opener holds the first reference
        if s.v.cmpxchg:  # hunk @@ -1225: cmpxchg (L1295)
            tctx = yield k.cmpxchg(task.perf_counter_ctxp, None, ctx)
        else:  # the mutant: a plain check, then a store
            tctx = yield k.load(task.perf_counter_ctxp)
            if tctx is None:
                yield k.store(task.perf_counter_ctxp, ctx)
        if tctx is not None:  # L1296: we raced with some other task
            yield k.kfree(ctx)
            s.creating.discard(ctx)
            ctx = tctx
        else:
            s.creating.discard(ctx)
    return ctx


def perf_counter_alloc(
    k: Kernel, s: PerfSystem, ctx: perf_counter_context, inherit: bool, disabled: bool
) -> Steps:
    """perf_counter_alloc (L3025); None for -ENOMEM. The PMU init succeeds."""
    state = PERF_COUNTER_STATE_OFF if disabled else PERF_COUNTER_STATE_INACTIVE
    counter = yield k.kzalloc(  # L3036; fields set L3047-L3065
        perf_counter, may_fail=s.failures, ctx=ctx, state=state, inherit=inherit
    )
    if counter is None:
        return None
    if s.v.dynamic_ctx:  # hunk @@ -2985: get_ctx(ctx) (L3062)
        yield from get_ctx(k, ctx)
        counter.ctx_ref = True
    if s.tick:  # only the tick reads the global count (L1154)
        yield k.atomic_inc(s.perf.nr_counters)  # L3094
    return counter


def put_context(k: Kernel, ctx: perf_counter_context) -> Steps:
    """put_context (L1226): reads ctx->task to drop the task reference."""
    yield k.load(ctx.task)


def sys_perf_counter_open(
    k: Kernel, s: PerfSystem, task: task_struct, inherit: bool = False, disabled: bool = False
) -> Steps:
    """sys_perf_counter_open (L3123) on a task, without a group; returns the file or None.

    ``anon_inode_getfd`` fails only when the scenario explores it
    (``s.getfd_failures``); its error path frees the counter.
    """
    ctx = yield from find_get_context(k, s, task)  # L3146
    if ctx is None:
        return None
    counter = yield from perf_counter_alloc(k, s, ctx, inherit, disabled)  # L3182
    if counter is None:
        yield from put_context(k, ctx)  # err_put_context
        return None
    filp = yield k.kmalloc(  # anon_inode_getfd (L3187)
        file, may_fail=s.getfd_failures, private_data=counter
    )
    if filp is None:  # err_free_put_context (L3209): kfree, no put_ctx
        yield k.kfree(counter)
        yield from put_context(k, ctx)
        return None
    s.files.append(filp)
    yield k.store(counter.filp, filp)  # L3195
    yield k.mutex_lock(ctx.mutex)  # L3196
    yield from perf_install_in_context(k, s, ctx, counter)
    yield k.mutex_unlock(ctx.mutex)  # L3198
    yield from s.observe_enabled(k, counter, "sys_perf_counter_open")
    return filp


def free_counter_rcu(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """free_counter_rcu (L1309), the RCU callback."""
    if s.v.dynamic_ctx:  # hunk @@ -1242: put_ctx(counter->ctx)
        ctx = yield k.load(counter.ctx)

        def dropped() -> None:
            counter.ctx_ref = False

        yield from put_ctx(k, ctx, dropped)
    yield k.kfree(counter)


def free_counter(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """free_counter (L1320); perf_pending_sync and ->destroy are left out."""
    if s.tick:  # only the tick reads the global count (L1154)
        yield k.atomic_dec(s.perf.nr_counters)  # L1324
    yield k.call_rcu(free_counter_rcu, s, counter)  # L1335


def perf_release(k: Kernel, s: PerfSystem, filp: file) -> Steps:
    """perf_release (L1341): the last fput of a counter's fd."""
    counter = yield k.load(filp.private_data)
    k.BUG_ON(counter is None, f"perf_release of {filp.name} twice: NULL private_data")
    ctx = yield k.load(counter.ctx)
    yield k.store(filp.private_data, None)  # L1346
    yield k.mutex_lock(ctx.mutex)  # L1348
    yield k.mutex_lock(counter.mutex)
    yield from perf_counter_remove_from_context(k, s, counter)  # L1351
    yield k.mutex_unlock(counter.mutex)
    yield k.mutex_unlock(ctx.mutex)
    yield from free_counter(k, s, counter)  # L1356
    yield from put_context(k, ctx)  # L1357


def fput(k: Kernel, s: PerfSystem, filp: file) -> Steps:
    """fput: the last reference releases the counter and frees the file."""
    if (yield k.atomic_dec_and_test(filp.f_count)):
        yield from perf_release(k, s, filp)
        yield k.kfree(filp)


# --------------------------------------------------------------- exit


def sync_child_counter(
    k: Kernel, s: PerfSystem, child_counter: perf_counter, parent_counter: perf_counter
) -> Steps:
    """sync_child_counter (L3318); the counts are not modelled."""
    yield k.mutex_lock(parent_counter.mutex)  # L3335
    yield k.list_del_init(child_counter.child_list)
    yield k.mutex_unlock(parent_counter.mutex)
    filp = yield k.load(parent_counter.filp)
    yield from fput(k, s, filp)  # L3343


def __perf_counter_exit_task(
    k: Kernel,
    s: PerfSystem,
    child: task_struct,
    child_counter: perf_counter,
    child_ctx: perf_counter_context,
) -> Steps:
    """__perf_counter_exit_task (L3348; 34adc806 L3290)."""
    if s.v.dynamic_ctx:  # hunk @@ -3294: counter->mutex instead of IRQs off
        yield k.mutex_lock(child_counter.mutex)  # L3358
        yield from list_del_counter(k, s, child_counter, child_ctx)  # L3361
        yield k.mutex_unlock(child_counter.mutex)
    else:  # 34adc806 L3304-L3327: child == current (the WARN makes sure)
        flags = yield k.local_irq_save()
        cpuctx = this_cpuctx(k, s)
        yield from counter_sched_out(k, child_counter, cpuctx, child_ctx)  # group_sched_out
        yield from list_del_counter(k, s, child_counter, child_ctx)
        yield k.local_irq_restore(flags)
    parent_counter = yield k.load(child_counter.parent)  # L3365
    if parent_counter is not None:
        yield from sync_child_counter(k, s, child_counter, parent_counter)
        yield from free_counter(k, s, child_counter)


def perf_counter_exit_task(k: Kernel, s: PerfSystem, child: task_struct) -> Steps:
    """perf_counter_exit_task (L3386; 34adc806 L3350), called by do_exit."""
    k.WARN_ON(child is not k.current, "perf_counter_exit_task: child != current")
    if s.v.dynamic_ctx:
        child_ctx = yield k.load(child.perf_counter_ctxp)  # L3395
        if child_ctx is None:
            return
        s.exit_holding.add(child_ctx)  # bookkeeping: the task's reference, now ours
        # hunk @@ -3346: schedule the context out and unhook it (L3400-L3403)
        flags = yield k.local_irq_save()
        yield from __perf_counter_task_sched_out(k, s, child_ctx)
        yield k.store(child.perf_counter_ctxp, None)
        yield k.local_irq_restore(flags)
    else:
        child_ctx = child.perf_counter_ctx
        if not (yield k.load(child_ctx.nr_counters)):  # 34adc806 L3359
            return
    if s.v.exit_ctx_mutex and s.v.dynamic_ctx:
        yield k.mutex_lock(child_ctx.mutex)  # L3405
    while True:  # again: list_for_each_entry_safe (L3408)
        node = yield k.list_next(child_ctx.counter_list)
        while node is not child_ctx.counter_list:
            tmp = yield k.list_next(node)
            yield from __perf_counter_exit_task(k, s, child, counter_of(node), child_ctx)
            node = tmp
        if (yield k.list_empty(child_ctx.counter_list)):  # L3416
            break
    if s.v.dynamic_ctx:
        if s.v.exit_ctx_mutex:
            yield k.mutex_unlock(child_ctx.mutex)  # L3419
        yield from put_ctx(k, child_ctx, lambda: s.exit_holding.discard(child_ctx))  # L3421


def do_exit(k: Kernel, s: PerfSystem, task: task_struct) -> Steps:
    """The perf part of do_exit: PF_EXITING, perf_counter_exit_task, the last schedule().

    The task stays current between perf_counter_exit_task and its final
    context switch (to idle), so IPIs can still land on it there.
    """
    yield k.store(task.exiting, True)  # exit_signals: PF_EXITING
    yield from perf_counter_exit_task(k, s, task)
    yield k.local_irq_disable()  # schedule(): IRQs off around the hooks
    yield from perf_counter_task_sched_out(k, s, task)
    assert task.cpu is not None
    yield k.context_switch(task.cpu, None)


# --------------------------------------------------------------- fork


def inherit_counter(
    k: Kernel,
    s: PerfSystem,
    parent_counter: perf_counter,
    child: task_struct,
    child_ctx: perf_counter_context,
) -> Steps:
    """inherit_counter (L3231) without a group leader; None on -ENOMEM."""
    grand = yield k.load(parent_counter.parent)  # L3247
    if grand is not None:
        parent_counter = grand
    child_counter = yield from perf_counter_alloc(k, s, child_ctx, True, False)  # L3250
    if child_counter is None:
        return None
    if not s.v.dynamic_ctx:  # hunk @@ -3195: child_counter->task = child
        yield k.store(child_counter.task, child)
    yield from add_counter_to_ctx(k, child_counter, child_ctx)  # L3258
    yield k.store(child_counter.parent, parent_counter)  # L3260
    filp = yield k.load(parent_counter.filp)  # L3272
    yield k.atomic_inc(filp.f_count)
    yield k.mutex_lock(parent_counter.mutex)  # L3277
    yield k.list_add_tail(child_counter.child_list, parent_counter.child_list)
    parent_state = yield k.load(parent_counter.state)  # L3285
    if parent_state >= PERF_COUNTER_STATE_INACTIVE:
        yield k.store(child_counter.state, PERF_COUNTER_STATE_INACTIVE)
    else:
        yield k.store(child_counter.state, PERF_COUNTER_STATE_OFF)
    yield k.mutex_unlock(parent_counter.mutex)
    return child_counter


def perf_counter_init_task(k: Kernel, s: PerfSystem, child: task_struct) -> Steps:
    """perf_counter_init_task (L3427; 34adc806 L3379), from copy_process in the parent."""
    parent = k.current
    if s.v.dynamic_ctx:  # hunk @@ -3382
        yield k.store(child.perf_counter_ctxp, None)  # L3433
        child_ctx = yield k.kmalloc(  # L3441; initialised below, folded in here
            perf_counter_context, may_fail=s.failures, **__perf_counter_init_context(child)
        )
        if child_ctx is None:
            return
        s.creating.add(child_ctx)
        parent_ctx = yield k.load(parent.perf_counter_ctxp)  # L3445
        if parent_ctx is None or not (yield k.load(parent_ctx.nr_counters)):  # L3446
            return
        yield k.store(child.perf_counter_ctxp, child_ctx)  # L3450
        s.creating.discard(child_ctx)
    else:
        child_ctx = child.perf_counter_ctx  # 34adc806 L3385: initialised in setup
        parent_ctx = parent.perf_counter_ctx
        if not (yield k.load(parent_ctx.nr_counters)):  # 34adc806 L3394
            return
    yield k.mutex_lock(parent_ctx.mutex)  # L3456
    for node in (yield from k.list_entries(parent_ctx.event_list)):  # L3462
        owner = node.owner
        assert isinstance(owner, perf_counter)
        if not owner.inherit:  # hw_event.inherit (constant)
            continue
        if (yield from inherit_counter(k, s, owner, child, child_ctx)) is None:
            break  # inherit_group failed (L3470)
    yield k.mutex_unlock(parent_ctx.mutex)  # L3474
