"""kernel/perf_counter.c at a63eaf34 and at its parent 34adc806, as ctxcheck generators.

Every function below has the name of the kernel function it models and takes
its steps in the kernel's order: reads, writes, locks, IRQ state, IPIs and
frees. The first two arguments are the thread's kernel handle ``k`` and the
:class:`~models.perf_counter.state.PerfSystem` ``s`` (per-CPU data, globals
and which version of the code runs); the rest are the C arguments.

Each step names the line of kernel/perf_counter.c it is, in a trailing
comment read by :mod:`models.perf_counter.cite`: ``K<n>`` is line n at
a63eaf34 (``post`` and the mutants), ``P<n>`` line n at the parent 34adc806
(``pre``), ``F<n>`` line n at cf7a2b4f, the stored file after the upstream
fix c93f7669 (variant ``c93f7669``, for the steps of the fix that have a
line there). Every cited line is in ``facts.csv`` and held to it by
``tests/test_kernel_facts.py``. A step without a letter for a variant (the
code a mutant puts back, the bookkeeping of the model) shows the model's
own line in a trace.

The versions differ by switches on ``s.v`` (a :class:`Flavor`), each marked
with the hunk it stands for, so one mutant removes one hunk. Simplified,
because none of it can change which counter sits on which list, which
context is installed where, or who frees what:

* the hardware PMU: ``pmu->enable`` always succeeds and ``pmu->disable`` is
  the state change; a counter on the PMU is ``state == ACTIVE`` plus the
  ``nr_active``/``active_oncpu`` bookkeeping. ``perf_disable()``/
  ``perf_enable()`` (a per-CPU nesting count for NMI-based PMUs) are left out.
  The PMU init of ``perf_counter_alloc`` succeeds, or fails when the
  scenario explores it (``s.pmu_failures``): which PMU it is does not matter.
* times (``update_context_time``, ``update_counter_times``, ``tstamp_*``),
  the values of counts, ``perf_adjust_freq`` (no counter is in frequency
  mode), the mmap output buffer and the records written to it.
* groups: every counter is its own group leader with an empty sibling list,
  so ``group_sched_in/out`` are ``counter_sched_in/out`` of the leader, the
  sibling walks are empty, ``group_can_go_on`` is 1 (nothing is exclusive or
  pinned) and the pinned pass of ``__perf_counter_sched_in`` skips every counter.
* per-CPU counters (``cpu != -1``): the per-CPU context stays empty, so
  ``perf_counter_cpu_sched_out/in`` and the CPU-context half of the tick and
  of software events are left out.
* the global ``nr_counters`` (and the mmap/comm tracking counts) are kept
  only in scenarios that read them (``s.tick``): two increments commute, so
  without a reader they only multiply the schedules.
* task references (``get_task_struct``/``put_task_struct``): the task structs
  outlive every model; ``put_context`` keeps its read of ``ctx->task``.
* initialising private memory (``kzalloc`` + ``__perf_counter_init_context``
  before the object is published, ordered by ``smp_wmb``) is part of the
  allocation step: under sequential consistency no other thread can see the
  object before that. Under ``--memory-model lkmm`` the engine makes it what
  the C is: plain stores by the allocating CPU to memory that starts
  uninitialised (:mod:`ctxcheck.lkmm.engine`), ordered before the
  publication only by the ``smp_wmb()`` (K1294) and the cmpxchg (K1295).
* memory accesses are marked as the C marks them: ``k.load``/``k.store``
  where the C reads or writes a field plainly (``task->perf_counter_ctxp`` at
  K1282 and the scheduler hooks), ``rcu_dereference`` where it has one (F161,
  F174), the ``atomic_*`` operations as atomics. The what-if variants
  ``*-read-once`` (not upstream code) read ``task->perf_counter_ctxp`` with
  ``READ_ONCE``, to ask the LKMM what the reader side relies on.
* ``c93f7669``: the fix follows the file after it (cf7a2b4f), without the
  context cloning that came in between (``perf_lock_task_context`` has no
  clone to unclone, ``put_ctx`` no parent context to put).
"""

from __future__ import annotations

from typing import Any

from ctxcheck import Kernel
from ctxcheck.kernel import Steps
from models.perf_counter.state import PerfSystem
from models.perf_counter.structs import (
    FLAVORS,
    PERF_COUNTER_STATE_ACTIVE,
    PERF_COUNTER_STATE_ERROR,
    PERF_COUNTER_STATE_INACTIVE,
    PERF_COUNTER_STATE_OFF,
    VARIANT_DOCS,
    Flavor,
    counter_of,
    file,
    perf_counter,
    perf_counter_context,
    perf_cpu_context,
    perf_globals,
    task_struct,
)

__all__ = [
    "FLAVORS",
    "PERF_COUNTER_STATE_ACTIVE",
    "PERF_COUNTER_STATE_ERROR",
    "PERF_COUNTER_STATE_INACTIVE",
    "PERF_COUNTER_STATE_OFF",
    "VARIANT_DOCS",
    "Flavor",
    "PerfSystem",
    "counter_of",
    "file",
    "perf_counter",
    "perf_counter_context",
    "perf_cpu_context",
    "perf_globals",
    "task_struct",
]


def _ctxp(k: Kernel, s: PerfSystem, task: Any) -> Any:
    """The load of ``task->perf_counter_ctxp``: plain, as the C at every commit
    modelled here has it; ``READ_ONCE`` in the what-if variants ``*-read-once``
    (how kernels since 2014 write such loads), to ask the LKMM what the reader
    side relies on."""
    if s.v.ctxp_read_once:
        return k.READ_ONCE(task.perf_counter_ctxp)
    return k.load(task.perf_counter_ctxp)


def this_cpuctx(k: Kernel, s: PerfSystem) -> perf_cpu_context:
    """``&__get_cpu_var(perf_cpu_context)``."""
    assert k.cpu is not None, "per-CPU code runs on a tracked CPU"
    return s.cpuctx[k.cpu.index]


def get_ctx(k: Kernel, s: PerfSystem, ctx: perf_counter_context) -> Steps:
    """get_ctx (a63eaf34): atomic_inc; after c93f7669 an increment unless zero."""
    if s.v.attach_exit_fix:
        ok = yield k.atomic_inc_not_zero(ctx.refcount)  # F127
        k.WARN_ON(not ok, f"get_ctx: {ctx.name}.refcount was 0")
        return
    yield k.atomic_inc(ctx.refcount)  # K102


def free_ctx(k: Kernel, ctx: perf_counter_context) -> Steps:
    """free_ctx (after c93f7669): the RCU callback that frees a context."""
    yield k.kfree(ctx)  # F135


def put_ctx(k: Kernel, s: PerfSystem, ctx: perf_counter_context, dropped: Any) -> Steps:
    """put_ctx: the last reference frees the context (c93f7669: after a grace period).

    ``dropped`` is model bookkeeping run right after the decrement: it says
    whose reference that was, for the refcount property.
    """
    last = yield k.atomic_dec_and_test(ctx.refcount)  # K107 F140
    dropped()
    if not last:
        return
    if s.v.attach_exit_fix:
        yield k.call_rcu(free_ctx, ctx)  # F145
    else:
        yield k.kfree(ctx)  # K108


# ------------------------------------------------------------------ lists


def list_add_counter(k: Kernel, counter: perf_counter, ctx: perf_counter_context) -> Steps:
    """list_add_counter; the counter leads its own group."""
    ctx.listing += 1
    yield k.list_add_tail(counter.list_entry, ctx.counter_list)  # K122 P111
    yield k.list_add_rcu(counter.event_entry, ctx.event_list)  # K128 P117
    nr = yield k.load(ctx.nr_counters)  # K129 P118
    yield k.store(ctx.nr_counters, nr + 1)  # K129 P118
    ctx.listing -= 1


def list_del_counter(
    k: Kernel, s: PerfSystem, counter: perf_counter, ctx: perf_counter_context
) -> Steps:
    """list_del_counter; the sibling walk is empty (no groups)."""
    # hunk @@ -118: the new guard
    if s.v.list_empty_check and (yield k.list_empty(counter.list_entry)):  # K141
        return
    ctx.listing += 1
    nr = yield k.load(ctx.nr_counters)  # K143 P126
    yield k.store(ctx.nr_counters, nr - 1)  # K143 P126
    yield k.list_del_init(counter.list_entry)  # K145 P128
    yield k.list_del_rcu(counter.event_entry)  # K146 P129
    ctx.listing -= 1


def add_counter_to_ctx(k: Kernel, counter: perf_counter, ctx: perf_counter_context) -> Steps:
    """add_counter_to_ctx: list_add_counter; the timestamps are not modelled."""
    yield from list_add_counter(k, counter, ctx)


# ---------------------------------------------------------------- the PMU


def counter_sched_out(
    k: Kernel, counter: perf_counter, cpuctx: perf_cpu_context, ctx: perf_counter_context
) -> Steps:
    """counter_sched_out, also group_sched_out of a lone leader."""
    state = yield k.load(counter.state)  # K169 P152
    if state != PERF_COUNTER_STATE_ACTIVE:
        return
    yield k.store(counter.state, PERF_COUNTER_STATE_INACTIVE)  # K172 P155
    yield k.store(counter.oncpu, -1)  # K175 P158
    active = yield k.load(cpuctx.active_oncpu)  # K178 P161
    yield k.store(cpuctx.active_oncpu, active - 1)  # K178 P161
    nr = yield k.load(ctx.nr_active)  # K179 P162
    yield k.store(ctx.nr_active, nr - 1)  # K179 P162


def counter_sched_in(
    k: Kernel,
    counter: perf_counter,
    cpuctx: perf_cpu_context,
    ctx: perf_counter_context,
    cpu: int,
) -> Steps:
    """counter_sched_in, also group_sched_in of a lone leader."""
    state = yield k.load(counter.state)  # K433 P419
    if state <= PERF_COUNTER_STATE_OFF:
        return 0
    yield k.store(counter.state, PERF_COUNTER_STATE_ACTIVE)  # K436 P422
    yield k.store(counter.oncpu, cpu)  # K437 P423
    active = yield k.load(cpuctx.active_oncpu)  # K452 P438
    yield k.store(cpuctx.active_oncpu, active + 1)  # K452 P438
    nr = yield k.load(ctx.nr_active)  # K453 P439
    yield k.store(ctx.nr_active, nr + 1)  # K453 P439
    return 0


# ------------------------------------------------------- remove (release)


def __perf_counter_remove_from_context(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """__perf_counter_remove_from_context: the IPI handler."""
    cpuctx = this_cpuctx(k, s)
    ctx = yield k.load(counter.ctx)  # K216 P199
    task = yield k.load(ctx.task)  # K224 P207
    if task is not None:
        task_ctx = yield k.load(cpuctx.task_ctx)  # K224 P207
        if task_ctx is not ctx:
            return
    flags = yield from k.spin_lock_irqsave(ctx.lock)  # K227 P210
    yield from counter_sched_out(k, counter, cpuctx, ctx)
    if not s.v.dynamic_ctx:  # hunk @@ -216: counter->task = NULL
        yield k.store(counter.task, None)  # P219
    yield from list_del_counter(k, s, counter, ctx)
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # K249 P234


def perf_counter_remove_from_context(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """perf_counter_remove_from_context; callers hold the mutexes."""
    ctx = yield k.load(counter.ctx)  # K263 P248
    task = yield k.load(ctx.task)  # K264 P249
    while True:  # retry:
        yield from k.task_oncpu_function_call(  # K278 P263
            task, __perf_counter_remove_from_context, s, counter
        )
        yield from k.spin_lock_irq(ctx.lock)  # K281 P266
        nr_active = yield k.load(ctx.nr_active)  # K285 P270
        if nr_active and not (yield k.list_empty(counter.list_entry)):  # K285 P270
            yield from k.spin_unlock_irq(ctx.lock)  # K286 P271
            continue
        if not (yield k.list_empty(counter.list_entry)):  # K295 P280
            yield from list_del_counter(k, s, counter, ctx)
            if not s.v.dynamic_ctx:  # hunk @@ -279: counter->task = NULL
                yield k.store(counter.task, None)  # P282
        yield from k.spin_unlock_irq(ctx.lock)  # K298 P284
        return


# -------------------------------------------------------------- disable


def __perf_counter_disable(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """__perf_counter_disable: the IPI handler (no adoption in either version)."""
    cpuctx = this_cpuctx(k, s)
    ctx = yield k.load(counter.ctx)  # K357 P343
    task = yield k.load(ctx.task)  # K364 P350
    if task is not None:
        task_ctx = yield k.load(cpuctx.task_ctx)  # K364 P350
        if task_ctx is not ctx:
            return
    flags = yield from k.spin_lock_irqsave(ctx.lock)  # K367 P353
    state = yield k.load(counter.state)  # K373 P359
    if state >= PERF_COUNTER_STATE_INACTIVE:
        yield from counter_sched_out(k, counter, cpuctx, ctx)  # group_sched_out
        yield k.store(counter.state, PERF_COUNTER_STATE_OFF)  # K380 P366
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # K383 P369


def perf_counter_disable(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """perf_counter_disable: ioctl(PERF_COUNTER_IOC_DISABLE) on one counter."""
    ctx = yield k.load(counter.ctx)  # K391 P377
    task = yield k.load(ctx.task)  # K392 P378
    while True:  # retry:
        yield from k.task_oncpu_function_call(  # K404 P390
            task, __perf_counter_disable, s, counter
        )
        yield from k.spin_lock_irq(ctx.lock)  # K406 P392
        if (yield k.load(counter.state)) == PERF_COUNTER_STATE_ACTIVE:  # K410 P396
            yield from k.spin_unlock_irq(ctx.lock)  # K411 P397
            continue
        if (yield k.load(counter.state)) == PERF_COUNTER_STATE_INACTIVE:  # K419 P405
            yield k.store(counter.state, PERF_COUNTER_STATE_OFF)  # K421 P407
        yield from k.spin_unlock_irq(ctx.lock)  # K424 P410
        return


# --------------------------------------------------------------- install


def __perf_install_in_context(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """__perf_install_in_context: the IPI handler (or local call)."""
    cpuctx = this_cpuctx(k, s)
    assert k.cpu is not None
    ctx = yield k.load(counter.ctx)  # K575 P561
    task = yield k.load(ctx.task)  # K588 P572
    if task is not None:
        task_ctx = yield k.load(cpuctx.task_ctx)  # K588 P572
        if task_ctx is not ctx:
            # hunk @@ -568: adopt a NULL task_ctx when ctx->task is current
            if not s.v.install_task_ctx:
                return
            if task_ctx is not None or task is not k.current:
                return
            yield k.store(cpuctx.task_ctx, ctx)  # K591
    flags = yield from k.spin_lock_irqsave(ctx.lock)  # K594 P575
    if s.v.install_task_ctx:  # hunk @@ -568: ctx->is_active = 1
        yield k.store(ctx.is_active, 1)  # K595
    yield from add_counter_to_ctx(k, counter, ctx)
    state = yield k.load(counter.state)  # K610 P590
    if state == PERF_COUNTER_STATE_INACTIVE:
        # group_can_go_on is 1; counter_sched_in succeeds
        yield from counter_sched_in(k, counter, cpuctx, ctx, k.cpu.index)
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # K644 P624


def perf_install_in_context(
    k: Kernel, s: PerfSystem, ctx: perf_counter_context, counter: perf_counter
) -> Steps:
    """perf_install_in_context; the caller holds ctx->mutex."""
    task = yield k.load(ctx.task)  # K664 P644
    if not s.v.dynamic_ctx:  # hunk @@ -653: counter->task = task
        yield k.store(counter.task, task)  # P656
    while True:  # retry:
        yield from k.task_oncpu_function_call(  # K677 P658
            task, __perf_install_in_context, s, counter
        )
        yield from k.spin_lock_irq(ctx.lock)  # K680 P661
        is_active = yield k.load(ctx.is_active)  # K684 P665
        if is_active and (yield k.list_empty(counter.list_entry)):  # K684 P665
            yield from k.spin_unlock_irq(ctx.lock)  # K685 P666
            continue
        if (yield k.list_empty(counter.list_entry)):  # K694 P675
            yield from add_counter_to_ctx(k, counter, ctx)
        yield from k.spin_unlock_irq(ctx.lock)  # K696 P677
        return


# ---------------------------------------------------------------- enable


def __perf_counter_enable(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """__perf_counter_enable: the IPI handler (or local call)."""
    cpuctx = this_cpuctx(k, s)
    assert k.cpu is not None
    ctx = yield k.load(counter.ctx)  # K706 P687
    task = yield k.load(ctx.task)  # K715 P696
    if task is not None:
        task_ctx = yield k.load(cpuctx.task_ctx)  # K715 P696
        if task_ctx is not ctx:
            # hunk @@ -693: adopt a NULL task_ctx when ctx->task is current
            if not s.v.enable_task_ctx:
                return
            if task_ctx is not None or task is not k.current:
                return
            yield k.store(cpuctx.task_ctx, ctx)  # K718
    flags = yield from k.spin_lock_irqsave(ctx.lock)  # K721 P699
    if s.v.enable_task_ctx:  # hunk @@ -693: ctx->is_active = 1
        yield k.store(ctx.is_active, 1)  # K722
    state = yield k.load(counter.state)  # K726 P703
    if state < PERF_COUNTER_STATE_INACTIVE:
        yield k.store(counter.state, PERF_COUNTER_STATE_INACTIVE)  # K728 P705
        # leader == counter, group_can_go_on is 1: group_sched_in
        yield from counter_sched_in(k, counter, cpuctx, ctx, k.cpu.index)
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # K765 P742


def perf_counter_enable(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """perf_counter_enable: ioctl(PERF_COUNTER_IOC_ENABLE) on one counter."""
    ctx = yield k.load(counter.ctx)  # K773 P750
    task = yield k.load(ctx.task)  # K774 P751
    yield from k.spin_lock_irq(ctx.lock)  # K785 P762
    state = yield k.load(counter.state)  # K786 P763
    if state < PERF_COUNTER_STATE_INACTIVE:
        if state == PERF_COUNTER_STATE_ERROR:
            yield k.store(counter.state, PERF_COUNTER_STATE_OFF)  # K797 P774
        while True:  # retry:
            yield from k.spin_unlock_irq(ctx.lock)  # K800 P777
            yield from k.task_oncpu_function_call(  # K801 P778
                task, __perf_counter_enable, s, counter
            )
            yield from k.spin_lock_irq(ctx.lock)  # K803 P780
            is_active = yield k.load(ctx.is_active)  # K809 P786
            if is_active and (yield k.load(counter.state)) == PERF_COUNTER_STATE_OFF:  # K809 P786
                continue
            break
        if (yield k.load(counter.state)) == PERF_COUNTER_STATE_OFF:  # K816 P793
            yield k.store(counter.state, PERF_COUNTER_STATE_INACTIVE)  # K817 P794
    yield from k.spin_unlock_irq(ctx.lock)  # K822 P799


# ------------------------------------------------------------ scheduling


def __perf_counter_sched_out(
    k: Kernel, ctx: perf_counter_context, cpuctx: perf_cpu_context
) -> Steps:
    """__perf_counter_sched_out; IRQs are off."""
    yield k.spin_lock(ctx.lock)  # K844 P821
    yield k.store(ctx.is_active, 0)  # K845 P822
    nr_counters = yield k.load(ctx.nr_counters)  # K846 P823
    if nr_counters and (yield k.load(ctx.nr_active)):  # K851 P828
        for node in (yield from k.list_entries(ctx.counter_list)):  # K852 P829
            yield from counter_sched_out(k, counter_of(node), cpuctx, ctx)
    yield k.spin_unlock(ctx.lock)  # K861 P838


def perf_counter_task_sched_out(k: Kernel, s: PerfSystem, task: task_struct | None) -> Steps:
    """perf_counter_task_sched_out, from schedule() with IRQs off."""
    if task is None:
        return
    cpuctx = this_cpuctx(k, s)
    if s.v.dynamic_ctx:
        ctx = yield _ctxp(k, s, task)  # K878
        if ctx is None:  # hunk @@ -852: !ctx || ...
            return
    else:
        ctx = task.perf_counter_ctx  # &task->perf_counter_ctx: no step
    if (yield k.load(cpuctx.task_ctx)) is None:  # K881 P858
        return
    yield from perf_swcounter_event(k, s)  # K887 P864
    yield from __perf_counter_sched_out(k, ctx, cpuctx)  # K888 P865
    yield k.store(cpuctx.task_ctx, None)  # K890 P867


def __perf_counter_task_sched_out(k: Kernel, s: PerfSystem, ctx: perf_counter_context) -> Steps:
    """__perf_counter_task_sched_out, IRQs off."""
    cpuctx = this_cpuctx(k, s)
    # hunk @@ -871: if (!cpuctx->task_ctx) return
    if s.v.dynamic_ctx and (yield k.load(cpuctx.task_ctx)) is None:  # K897
        return
    yield from __perf_counter_sched_out(k, ctx, cpuctx)  # K899 P874
    yield k.store(cpuctx.task_ctx, None)  # K900 P875


def __perf_counter_sched_in(
    k: Kernel, ctx: perf_counter_context, cpuctx: perf_cpu_context, cpu: int
) -> Steps:
    """__perf_counter_sched_in; the pinned pass skips every counter."""
    yield k.spin_lock(ctx.lock)  # K915 P890
    yield k.store(ctx.is_active, 1)  # K916 P891
    if (yield k.load(ctx.nr_counters)):  # K917 P892
        for node in (yield from k.list_entries(ctx.counter_list)):  # K952 P927
            yield from counter_sched_in(k, counter_of(node), cpuctx, ctx, cpu)
    yield k.spin_unlock(ctx.lock)  # K980 P955


def perf_counter_task_sched_in(k: Kernel, s: PerfSystem, task: task_struct | None) -> Steps:
    """perf_counter_task_sched_in, from finish_task_switch() with IRQs off."""
    if task is None:
        return
    assert k.cpu is not None
    cpuctx = this_cpuctx(k, s)
    if s.v.dynamic_ctx:
        ctx = yield _ctxp(k, s, task)  # K997
        if ctx is None:  # hunk @@ -969: if (likely(!ctx)) return
            return
    else:
        ctx = task.perf_counter_ctx
    yield from __perf_counter_sched_in(k, ctx, cpuctx, k.cpu.index)  # K1001 P974
    yield k.store(cpuctx.task_ctx, ctx)  # K1002 P975


def rotate_ctx(k: Kernel, ctx: perf_counter_context) -> Steps:
    """rotate_ctx: move the first counter to the tail."""
    if not (yield k.load(ctx.nr_counters)):  # K1132 P1105
        return
    yield k.spin_lock(ctx.lock)  # K1135 P1108
    first = yield k.list_next(ctx.counter_list)  # K1140 P1113
    if first is not ctx.counter_list:
        yield k.list_move_tail(first, ctx.counter_list)  # K1141 P1114
    yield k.spin_unlock(ctx.lock)  # K1146 P1119


def perf_counter_task_tick(k: Kernel, s: PerfSystem, curr: task_struct | None) -> Steps:
    """perf_counter_task_tick, from the timer interrupt.

    The per-CPU context is empty, so its adjust/sched-out/rotate/sched-in are
    left out; perf_adjust_freq changes nothing without frequency counters.
    """
    if not (yield k.atomic_read(s.perf.nr_counters)):  # K1154 P1127
        return
    if curr is None:
        return
    if s.v.dynamic_ctx:
        ctx = yield _ctxp(k, s, curr)  # K1158
        if ctx is None:
            return
    else:
        ctx = curr.perf_counter_ctx
    yield from __perf_counter_task_sched_out(k, s, ctx)  # K1166 P1137
    yield from rotate_ctx(k, ctx)  # K1170 P1140
    yield from perf_counter_task_sched_in(k, s, curr)  # K1174 P1143


# ------------------------------------------------------------------ prctl


def perf_counter_task_disable(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_task_disable: prctl(PR_TASK_PERF_COUNTERS_DISABLE)."""
    curr = k.current
    if s.v.dynamic_ctx:
        ctx = yield _ctxp(k, s, curr)  # K1015
        if ctx is None:
            return 0
    else:
        ctx = curr.perf_counter_ctx
    if not (yield k.load(ctx.nr_counters)):  # K1019 P992
        return 0
    flags = yield k.local_irq_save()  # K1022 P995
    yield from __perf_counter_task_sched_out(k, s, ctx)  # K1024 P997
    yield k.spin_lock(ctx.lock)  # K1026 P999
    for node in (yield from k.list_entries(ctx.counter_list)):  # K1033 P1006
        counter = counter_of(node)
        if (yield k.load(counter.state)) != PERF_COUNTER_STATE_ERROR:  # K1034 P1007
            yield k.store(counter.state, PERF_COUNTER_STATE_OFF)  # K1036 P1009
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # K1042 P1015
    return 0


def perf_counter_task_enable(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_task_enable: prctl(PR_TASK_PERF_COUNTERS_ENABLE)."""
    curr = k.current
    if s.v.dynamic_ctx:
        ctx = yield _ctxp(k, s, curr)  # K1050
        if ctx is None:
            return 0
    else:
        ctx = curr.perf_counter_ctx
    if not (yield k.load(ctx.nr_counters)):  # K1055 P1028
        return 0
    flags = yield k.local_irq_save()  # K1058 P1031
    yield from __perf_counter_task_sched_out(k, s, ctx)  # K1061 P1034
    yield k.spin_lock(ctx.lock)  # K1063 P1036
    for node in (yield from k.list_entries(ctx.counter_list)):  # K1070 P1043
        counter = counter_of(node)
        if (yield k.load(counter.state)) > PERF_COUNTER_STATE_OFF:  # K1071 P1044
            continue
        yield k.store(counter.state, PERF_COUNTER_STATE_INACTIVE)  # K1073 P1046
    yield k.spin_unlock(ctx.lock)  # K1080 P1053
    yield from perf_counter_task_sched_in(k, s, curr)  # K1082 P1055
    yield k.local_irq_restore(flags)  # K1084 P1057
    return 0


# ------------------------------------------------------------ open / close


def __perf_counter_init_context(task: task_struct) -> dict[str, Any]:
    """__perf_counter_init_context: the fields a fresh context gets.

    It runs on memory no other CPU can see yet, so the model folds it into
    the allocation step (the kmalloc's initial values); under lkmm these are
    the allocating CPU's plain stores (see the module docstring).
    """
    return {"refcount": 1, "task": task}


def perf_lock_task_context(k: Kernel, s: PerfSystem, task: task_struct) -> Steps:
    """perf_lock_task_context (after c93f7669): the context, referenced, or None.

    Under rcu_read_lock: read the pointer, lock the context, re-check the
    pointer (retry if it moved), take a reference unless the count is zero.
    Returns with the lock dropped (find_get_context unlocks at once).
    """
    yield k.rcu_read_lock()  # F159
    while True:  # retry:
        ctx = yield k.rcu_dereference(task.perf_counter_ctxp)  # F161
        if ctx is None:
            break
        flags = yield from k.spin_lock_irqsave(ctx.lock)  # F173
        if ctx is not (yield k.rcu_dereference(task.perf_counter_ctxp)):  # F174
            yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # F175
            continue
        if not (yield k.atomic_inc_not_zero(ctx.refcount)):  # F179
            yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # F180
            ctx = None
            break
        s.opening.append(ctx)
        yield from k.spin_unlock_irqrestore(ctx.lock, flags)  # find_get_context's unlock
        break
    yield k.rcu_read_unlock()  # F184
    return ctx


def find_get_context(k: Kernel, s: PerfSystem, task: task_struct) -> Steps:
    """find_get_context for a task (pid != 0 or current; cpu == -1).

    Returns the context or None for an error. The vpid lookup, the task
    reference and the ptrace check are left out (they decide nothing here).
    """
    if not s.v.dynamic_ctx:  # hunk @@ -1225: the embedded context
        ctx = task.perf_counter_ctx
        yield k.store(ctx.task, task)  # P1229
        return ctx
    if s.v.attach_exit_fix:
        return (yield from _find_get_context_c93f7669(k, s, task))
    ctx = yield _ctxp(k, s, task)  # K1282
    if ctx is None:
        ctx = yield k.kmalloc(  # K1284
            perf_counter_context, may_fail=s.failures, **__perf_counter_init_context(task)
        )
        if ctx is None:
            return None  # -ENOMEM
        s.creating.add(ctx)  # bookkeeping: the opener holds the first reference
        if s.v.smp_wmb:  # the initialisation is visible before the pointer
            yield k.smp_wmb()  # K1294
        if s.v.cmpxchg:  # hunk @@ -1225: cmpxchg
            tctx = yield k.cmpxchg(task.perf_counter_ctxp, None, ctx)  # K1295
        else:  # the mutant: a plain check, then a store
            tctx = yield _ctxp(k, s, task)
            if tctx is None:
                yield k.store(task.perf_counter_ctxp, ctx)
        if tctx is not None:  # we raced with some other task
            yield k.kfree(ctx)  # K1301
            s.creating.discard(ctx)
            ctx = tctx
        else:
            s.creating.discard(ctx)
    return ctx


def _find_get_context_c93f7669(k: Kernel, s: PerfSystem, task: task_struct) -> Steps:
    """find_get_context after c93f7669: PF_EXITING, then a referenced context.

    Follows cf7a2b4f: the PF_EXITING test (-ESRCH for a dying task), then
    perf_lock_task_context, or a new context published with cmpxchg (retry
    from the top when another opener won). The caller owns one reference.
    """
    if (yield k.load(task.exiting)):  # task->flags & PF_EXITING
        return None  # -ESRCH
    while True:  # retry:
        ctx = yield from perf_lock_task_context(k, s, task)
        if ctx is not None:
            return ctx
        ctx = yield k.kmalloc(
            perf_counter_context, may_fail=s.failures, **__perf_counter_init_context(task)
        )
        if ctx is None:
            return None  # -ENOMEM
        s.creating.add(ctx)
        yield from get_ctx(k, s, ctx)  # the caller's reference
        s.opening.append(ctx)
        tctx = yield k.cmpxchg(task.perf_counter_ctxp, None, ctx)
        s.creating.discard(ctx)
        if tctx is None:
            return ctx
        s.opening.remove(ctx)
        yield k.kfree(ctx)  # raced with some other task: retry


def perf_counter_alloc(
    k: Kernel, s: PerfSystem, ctx: perf_counter_context, inherit: bool, disabled: bool
) -> Steps:
    """perf_counter_alloc; None for an error (no memory, or the PMU init failed).

    c93f7669: the counter takes over the reference find_get_context took
    (inherit_counter's, for a child context, is taken here as before).
    """
    state = PERF_COUNTER_STATE_OFF if disabled else PERF_COUNTER_STATE_INACTIVE
    counter = yield k.kzalloc(  # K3036 P2962
        perf_counter, may_fail=s.failures, ctx=ctx, state=state, inherit=inherit
    )
    if counter is None:
        return None
    takes_over = s.v.attach_exit_fix and ctx in s.opening
    if s.v.dynamic_ctx and not takes_over:  # hunk @@ -2985: get_ctx(ctx)
        yield from get_ctx(k, s, ctx)  # K3062
        counter.ctx_ref = True
    if s.pmu_failures:
        ok = yield k.choose(True, False, label="pmu init")  # K3102 P3027
        if not ok:  # no PMU, or its init returned an error
            yield k.kfree(counter)  # K3108 P3033
            return None
    if takes_over:  # c93f7669: the opener's reference is now the counter's
        s.opening.remove(ctx)
        counter.ctx_ref = True
    if s.tick:  # only the tick reads the global count
        yield k.atomic_inc(s.perf.nr_counters)  # K3114 P3039
    return counter


def put_context(k: Kernel, ctx: perf_counter_context) -> Steps:
    """put_context: reads ctx->task to drop the task reference."""
    yield k.load(ctx.task)  # K1228 P1181


def sys_perf_counter_open(
    k: Kernel,
    s: PerfSystem,
    task: task_struct,
    inherit: bool = False,
    disabled: bool = False,
    fdt: Any = None,
) -> Steps:
    """sys_perf_counter_open on a task, without a group; returns the file or None.

    ``anon_inode_getfd`` fails only when the scenario explores it
    (``s.getfd_failures``); its error path frees the counter. With ``fdt``
    (a :class:`fd_slot`) the fd is installed there, where another thread of
    the monitor may close it before ``fget_light`` looks it up.
    """
    ctx = yield from find_get_context(k, s, task)  # K3156 P3081
    if ctx is None:
        return None
    counter = yield from perf_counter_alloc(k, s, ctx, inherit, disabled)  # K3192 P3117
    if counter is None:
        yield from _err_put_context(k, s, ctx)
        return None
    filp = yield k.kmalloc(  # K3198 P3123
        file, may_fail=s.getfd_failures, private_data=counter
    )
    if filp is None:  # err_free_put_context: kfree, no put_ctx
        yield from _err_free_put_context(k, s, ctx, counter)
        return None
    s.files.append(filp)
    got = filp
    if fdt is not None:
        yield k.store(fdt.fd, filp)  # anon_inode_getfd's fd_install: the fd is live
        got = yield from fget_light(k, fdt)  # K3202 P3127
        if got is None:  # err_free_put_context, with ret = the fd
            yield from _err_free_put_context(k, s, ctx, counter)
            return None
    yield k.store(counter.filp, filp)  # K3206 P3131
    yield k.mutex_lock(ctx.mutex)  # K3207 P3132
    yield from perf_install_in_context(k, s, ctx, counter)
    yield k.mutex_unlock(ctx.mutex)  # K3209 P3134
    if fdt is not None and got is not None:
        yield from fput_light(k, s, got)  # K3211 P3136
    yield from s.observe_enabled(k, counter, "sys_perf_counter_open")
    return filp


def fput_light(k: Kernel, s: PerfSystem, filp: file) -> Steps:
    """fput_light with fput_needed set (the file table is shared): fput."""
    yield from fput(k, s, filp)


def fget_light(k: Kernel, fdt: Any) -> Steps:
    """fget_light in a task whose file table is shared: a referenced file, or None."""
    yield k.rcu_read_lock()
    filp = yield k.load(fdt.fd)
    if filp is not None and not (yield k.atomic_inc_not_zero(filp.f_count)):
        filp = None
    yield k.rcu_read_unlock()
    return filp


def _err_free_put_context(
    k: Kernel, s: PerfSystem, ctx: perf_counter_context, counter: perf_counter
) -> Steps:
    """err_free_put_context: kfree(counter) (no free_counter, no put_ctx at a63eaf34)."""
    if s.v.attach_exit_fix and counter.ctx_ref:
        counter.ctx_ref = False  # c93f7669: the reference goes back to the error path
        s.opening.append(ctx)
    yield k.kfree(counter)  # K3219 P3144
    yield from _err_put_context(k, s, ctx)


def _err_put_context(k: Kernel, s: PerfSystem, ctx: perf_counter_context) -> Steps:
    """err_put_context: put_context; after c93f7669 also put_ctx of the caller's reference."""
    if s.v.attach_exit_fix and ctx in s.opening:
        yield from put_ctx(k, s, ctx, lambda: s.opening.remove(ctx))
    yield from put_context(k, ctx)  # K3222 P3147


def free_counter_rcu(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """free_counter_rcu, the RCU callback."""
    if s.v.dynamic_ctx:  # hunk @@ -1242: put_ctx(counter->ctx)
        ctx = yield k.load(counter.ctx)  # K1314

        def dropped() -> None:
            counter.ctx_ref = False

        yield from put_ctx(k, s, ctx, dropped)  # K1314
    yield k.kfree(counter)  # K1315 P1245


def free_counter(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """free_counter; perf_pending_sync and ->destroy are left out."""
    if s.tick:  # only the tick reads the global count
        yield k.atomic_dec(s.perf.nr_counters)  # K1324 P1254
    if counter.tracks:  # hw_event.mmap, .munmap and .comm (constant)
        yield k.atomic_dec(s.perf.nr_mmap_tracking)  # K1326 P1256
        yield k.atomic_dec(s.perf.nr_munmap_tracking)  # K1328 P1258
        yield k.atomic_dec(s.perf.nr_comm_tracking)  # K1330 P1260
    yield k.call_rcu(free_counter_rcu, s, counter)  # K1335 P1265


def perf_release(k: Kernel, s: PerfSystem, filp: file) -> Steps:
    """perf_release: the last fput of a counter's fd.

    With ``preempt`` 0 (a non-preemptible kernel) this CPU passes no
    quiescent state from ``call_rcu`` in free_counter to the return to user
    space, so no grace period can end in between: the model holds an RCU
    read-side section over that stretch (no kernel line: the kernel has
    nothing to write there, its scheduler gives the guarantee).
    """
    counter = yield k.load(filp.private_data)  # K1343 P1273
    k.BUG_ON(counter is None, f"perf_release of {filp.name} twice: NULL private_data")
    ctx = yield k.load(counter.ctx)  # K1344 P1274
    yield k.store(filp.private_data, None)  # K1346 P1276
    yield k.mutex_lock(ctx.mutex)  # K1348 P1278
    yield k.mutex_lock(counter.mutex)  # K1349 P1279
    yield from perf_counter_remove_from_context(k, s, counter)  # K1351 P1281
    yield k.mutex_unlock(counter.mutex)  # K1353 P1283
    yield k.mutex_unlock(ctx.mutex)  # K1354 P1284
    if not s.preempt:
        yield k.rcu_read_lock()
    yield from free_counter(k, s, counter)  # K1356 P1286
    yield from put_context(k, ctx)  # K1357 P1287
    if not s.preempt:
        yield k.rcu_read_unlock()


def fput(k: Kernel, s: PerfSystem, filp: file) -> Steps:
    """fput: the last reference releases the counter and frees the file.

    Where the scenario looks files up locklessly (``s.file_rcu``), the file
    is freed after a grace period, as the VFS does.
    """
    if (yield k.atomic_dec_and_test(filp.f_count)):
        yield from perf_release(k, s, filp)
        if s.file_rcu:
            yield k.call_rcu(file_free, filp)
        else:
            yield k.kfree(filp)


def file_free(k: Kernel, filp: file) -> Steps:
    """The RCU callback that frees a struct file."""
    yield k.kfree(filp)


# ------------------------------------------------------------ read / ioctl


def perf_counter_read(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """perf_counter_read: an ACTIVE counter is read on its CPU by an IPI (__read)."""
    state = yield k.load(counter.state)  # K1200 P1169
    if state == PERF_COUNTER_STATE_ACTIVE:
        oncpu = yield k.load(counter.oncpu)  # K1201 P1170
        if 0 <= oncpu < len(s.cpus):
            yield from k.smp_call_function_single(s.cpus[oncpu], __read, s, counter)  # K1201 P1170


def __read(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """__read: the IPI handler reads the counter through its context."""
    ctx = yield k.load(counter.ctx)  # K1183 P1152
    flags = yield k.local_irq_save()  # K1186 P1155
    yield k.load(ctx.is_active)  # K1187 P1156
    yield k.local_irq_restore(flags)  # K1191 P1160


def perf_read(k: Kernel, s: PerfSystem, filp: file) -> Steps:
    """perf_read: file->private_data, then perf_read_hw."""
    counter = yield k.load(filp.private_data)  # K1403 P1333
    k.BUG_ON(counter is None, f"read of {filp.name} after release: NULL private_data")
    return (yield from perf_read_hw(k, s, counter))  # K1405 P1335


def perf_read_hw(k: Kernel, s: PerfSystem, counter: perf_counter) -> Steps:
    """perf_read_hw: the counter's value under counter->mutex."""
    if (yield k.load(counter.state)) == PERF_COUNTER_STATE_ERROR:  # K1376 P1306
        return 0
    yield k.mutex_lock(counter.mutex)  # K1379 P1309
    yield from perf_counter_read(k, s, counter)  # K1380 P1310
    yield k.mutex_unlock(counter.mutex)  # K1388 P1318
    return 1


def perf_counter_for_each_sibling(
    k: Kernel, s: PerfSystem, counter: perf_counter, func: Any
) -> Steps:
    """perf_counter_for_each_sibling: func on the leader (no siblings) under ctx->lock."""
    ctx = yield k.load(counter.ctx)  # K1435 P1365
    yield from k.spin_lock_irq(ctx.lock)  # K1438 P1368
    yield from func(k, s, counter.group_leader)  # K1441 P1371
    yield from k.spin_unlock_irq(ctx.lock)  # K1444 P1374


def perf_counter_for_each_child(
    k: Kernel, s: PerfSystem, counter: perf_counter, func: Any
) -> Steps:
    """perf_counter_for_each_child: func on the counter, then on each inherited child."""
    yield k.mutex_lock(counter.mutex)  # K1452 P1382
    yield from func(k, s, counter)  # K1453 P1383
    for node in (yield from k.list_entries(counter.child_list)):  # K1454 P1384
        yield from func(k, s, node.owner)  # K1455 P1385
    yield k.mutex_unlock(counter.mutex)  # K1456 P1386


def perf_counter_for_each(k: Kernel, s: PerfSystem, counter: perf_counter, func: Any) -> Steps:
    """perf_counter_for_each: the group of the counter, then each child's group."""
    yield k.mutex_lock(counter.mutex)  # K1464 P1394
    yield from perf_counter_for_each_sibling(k, s, counter, func)  # K1465 P1395
    for node in (yield from k.list_entries(counter.child_list)):  # K1466 P1396
        yield from perf_counter_for_each_sibling(k, s, node.owner, func)  # K1467 P1397
    yield k.mutex_unlock(counter.mutex)  # K1468 P1398


def perf_ioctl(k: Kernel, s: PerfSystem, filp: file, enable: bool, group: bool) -> Steps:
    """perf_ioctl: ENABLE or DISABLE, with or without PERF_IOC_FLAG_GROUP."""
    counter = yield k.load(filp.private_data)  # K1473 P1403
    k.BUG_ON(counter is None, f"ioctl of {filp.name} after release: NULL private_data")
    func = perf_counter_enable if enable else perf_counter_disable
    if group:
        yield from perf_counter_for_each(k, s, counter, func)  # K1495 P1425
    else:
        yield from perf_counter_for_each_child(k, s, counter, func)  # K1497 P1427
    return 0


# ------------------------------------------------- software events, hooks


def perf_swcounter_ctx_event(k: Kernel, s: PerfSystem, ctx: perf_counter_context) -> Steps:
    """perf_swcounter_ctx_event: walk the context's event_list under RCU."""
    if (yield k.list_empty(ctx.event_list)):  # K2690 P2616
        return
    yield k.rcu_read_lock()  # K2693 P2619
    for node in (yield from k.list_entries(ctx.event_list)):  # K2694 P2620
        yield k.load(node.owner.state)  # K2695 P2621: perf_swcounter_match
    yield k.rcu_read_unlock()  # K2698 P2624


def __perf_swcounter_event(k: Kernel, s: PerfSystem) -> Steps:
    """__perf_swcounter_event: the CPU context (empty), then ``cpuctx->task_ctx``.

    The recursion guard never trips here and the CPU context is empty, so
    the steps are the read of ``task_ctx`` and the walk of its event_list.
    """
    cpuctx = this_cpuctx(k, s)
    task_ctx = yield k.load(cpuctx.task_ctx)  # K2730 P2656
    if task_ctx is not None:
        yield from perf_swcounter_ctx_event(k, s, task_ctx)  # K2731 P2657


def perf_swcounter_event(k: Kernel, s: PerfSystem) -> Steps:
    """perf_swcounter_event: a software event (here the context switch)."""
    if s.sw_events:
        yield from __perf_swcounter_event(k, s)  # K2745 P2671


def perf_counter_comm_ctx(k: Kernel, s: PerfSystem, ctx: Any) -> Steps:
    """perf_counter_comm_ctx: list_empty(&ctx->event_list), then the RCU walk."""
    k.BUG_ON(ctx is None, "perf_counter_comm_ctx: NULL context dereferenced")
    if (yield k.list_empty(ctx.event_list)):  # K2292 P2222
        return
    yield k.rcu_read_lock()  # K2295 P2225
    for node in (yield from k.list_entries(ctx.event_list)):  # K2296 P2226
        yield k.load(node.owner.state)  # K2297 P2227: perf_counter_comm_match, output
    yield k.rcu_read_unlock()  # K2300 P2230


def perf_counter_comm_event(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_comm_event: the CPU context (empty), then current's context."""
    curr = k.current
    if s.v.dynamic_ctx:
        ctx = yield _ctxp(k, s, curr)  # K2320
    else:
        ctx = curr.perf_counter_ctx
    yield from perf_counter_comm_ctx(k, s, ctx)  # K2320


def perf_counter_comm(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_comm (set_task_comm): tracking count, current's context, the event."""
    if not (yield k.atomic_read(s.perf.nr_comm_tracking)):  # K2327 P2257
        return
    if s.v.dynamic_ctx and (yield _ctxp(k, s, k.current)) is None:  # K2329
        return
    yield from perf_counter_comm_event(k, s)  # K2341 P2269


def perf_counter_mmap_ctx(k: Kernel, s: PerfSystem, ctx: Any) -> Steps:
    """perf_counter_mmap_ctx: list_empty(&ctx->event_list), then the RCU walk."""
    k.BUG_ON(ctx is None, "perf_counter_mmap_ctx: NULL context dereferenced")
    if (yield k.list_empty(ctx.event_list)):  # K2399 P2327
        return
    yield k.rcu_read_lock()  # K2402 P2330
    for node in (yield from k.list_entries(ctx.event_list)):  # K2403 P2331
        yield k.load(node.owner.state)  # K2404 P2332: perf_counter_mmap_match, output
    yield k.rcu_read_unlock()  # K2407 P2335


def perf_counter_mmap_event(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_mmap_event: the CPU context (empty), then current's context."""
    curr = k.current
    if s.v.dynamic_ctx:
        ctx = yield _ctxp(k, s, curr)  # K2447
    else:
        ctx = curr.perf_counter_ctx
    yield from perf_counter_mmap_ctx(k, s, ctx)  # K2447


def perf_counter_mmap(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_mmap: tracking count, current's context (a63eaf34), the event."""
    if not (yield k.atomic_read(s.perf.nr_mmap_tracking)):  # K2457 P2385
        return
    if s.v.dynamic_ctx and (yield _ctxp(k, s, k.current)) is None:  # K2459
        return
    yield from perf_counter_mmap_event(k, s)  # K2474 P2400


def perf_counter_munmap(k: Kernel, s: PerfSystem) -> Steps:
    """perf_counter_munmap: tracking count only (no test of current's context)."""
    if not (yield k.atomic_read(s.perf.nr_munmap_tracking)):  # K2482 P2408
        return
    yield from perf_counter_mmap_event(k, s)  # K2497 P2423


# --------------------------------------------------------------- exit


def sync_child_counter(
    k: Kernel, s: PerfSystem, child_counter: perf_counter, parent_counter: perf_counter
) -> Steps:
    """sync_child_counter; the counts are not modelled."""
    yield k.mutex_lock(parent_counter.mutex)  # K3337 P3278
    yield k.list_del_init(child_counter.child_list)  # K3338 P3279
    yield k.mutex_unlock(parent_counter.mutex)  # K3339 P3280
    filp = yield k.load(parent_counter.filp)  # K3345 P3286
    yield from fput(k, s, filp)  # K3345 P3286


def __perf_counter_exit_task(
    k: Kernel,
    s: PerfSystem,
    child: task_struct,
    child_counter: perf_counter,
    child_ctx: perf_counter_context,
) -> Steps:
    """__perf_counter_exit_task."""
    if s.v.dynamic_ctx:  # hunk @@ -3294: counter->mutex instead of IRQs off
        yield k.mutex_lock(child_counter.mutex)  # K3359
        yield from list_del_counter(k, s, child_counter, child_ctx)  # K3362
        yield k.mutex_unlock(child_counter.mutex)  # K3364
    else:  # the child == current branch (the WARN makes sure)
        flags = yield k.local_irq_save()  # P3318
        cpuctx = this_cpuctx(k, s)
        yield from counter_sched_out(k, child_counter, cpuctx, child_ctx)  # group_sched_out
        yield from list_del_counter(k, s, child_counter, child_ctx)  # P3326
        yield k.local_irq_restore(flags)  # P3329
    parent_counter = yield k.load(child_counter.parent)  # K3366 P3332
    if parent_counter is not None:
        yield from sync_child_counter(k, s, child_counter, parent_counter)  # K3373 P3339
        yield from free_counter(k, s, child_counter)  # K3374 P3340


def perf_counter_exit_task(k: Kernel, s: PerfSystem, child: task_struct) -> Steps:
    """perf_counter_exit_task, called by do_exit."""
    k.WARN_ON(child is not k.current, "perf_counter_exit_task: child != current")
    if s.v.dynamic_ctx:
        child_ctx = yield _ctxp(k, s, child)  # K3394
        if child_ctx is None:
            return
        s.exit_holding.add(child_ctx)  # bookkeeping: the task's reference, now ours
        # hunk @@ -3346: schedule the context out and unhook it
        flags = yield k.local_irq_save()  # K3399
        yield from __perf_counter_task_sched_out(k, s, child_ctx)  # K3400
        if s.v.attach_exit_fix:  # c93f7669: unhook under ctx->lock
            yield k.spin_lock(child_ctx.lock)
            yield k.store(child.perf_counter_ctxp, None)
            yield k.spin_unlock(child_ctx.lock)
        else:
            yield k.store(child.perf_counter_ctxp, None)  # K3401
        yield k.local_irq_restore(flags)  # K3402
    else:
        child_ctx = child.perf_counter_ctx
        if not (yield k.load(child_ctx.nr_counters)):  # P3359
            return
    if s.v.exit_ctx_mutex and s.v.dynamic_ctx:
        yield k.mutex_lock(child_ctx.mutex)  # K3404
    while True:  # again: list_for_each_entry_safe
        node = yield k.list_next(child_ctx.counter_list)  # K3407 P3363
        while node is not child_ctx.counter_list:
            tmp = yield k.list_next(node)  # K3407 P3363
            yield from __perf_counter_exit_task(k, s, child, counter_of(node), child_ctx)
            node = tmp
        if (yield k.list_empty(child_ctx.counter_list)):  # K3416 P3372
            break
    if s.v.dynamic_ctx:
        if s.v.exit_ctx_mutex:
            yield k.mutex_unlock(child_ctx.mutex)  # K3419
        yield from put_ctx(k, s, child_ctx, lambda: s.exit_holding.discard(child_ctx))  # K3421


def do_exit(k: Kernel, s: PerfSystem, task: task_struct, next_task: Any = None) -> Steps:
    """The perf part of do_exit: PF_EXITING, perf_counter_exit_task, the last schedule().

    The task stays current between perf_counter_exit_task and its final
    context switch (to ``next_task``, idle by default), so IPIs can still
    land on it there.
    """
    yield k.store(task.exiting, True)  # exit_signals: PF_EXITING
    yield from perf_counter_exit_task(k, s, task)
    yield k.local_irq_disable()  # schedule(): IRQs off around the hooks
    yield from perf_counter_task_sched_out(k, s, task)
    assert task.cpu is not None
    yield k.context_switch(task.cpu, next_task)


# --------------------------------------------------------------- fork


def inherit_counter(
    k: Kernel,
    s: PerfSystem,
    parent_counter: perf_counter,
    child: task_struct,
    child_ctx: perf_counter_context,
) -> Steps:
    """inherit_counter without a group leader; None on an error."""
    grand = yield k.load(parent_counter.parent)  # K3246 P3186
    if grand is not None:
        parent_counter = grand
    child_counter = yield from perf_counter_alloc(k, s, child_ctx, True, False)  # K3249 P3189
    if child_counter is None:
        return None
    if not s.v.dynamic_ctx:  # hunk @@ -3195: child_counter->task = child
        yield k.store(child_counter.task, child)  # P3198
    yield from add_counter_to_ctx(k, child_counter, child_ctx)  # K3258 P3199
    yield k.store(child_counter.parent, parent_counter)  # K3260 P3201
    filp = yield k.load(parent_counter.filp)  # K3272 P3213
    yield k.atomic_inc(filp.f_count)  # K3272 P3213
    yield k.mutex_lock(parent_counter.mutex)  # K3277 P3218
    yield k.list_add_tail(child_counter.child_list, parent_counter.child_list)  # K3278 P3219
    parent_state = yield k.load(parent_counter.state)  # K3285 P3226
    if parent_state >= PERF_COUNTER_STATE_INACTIVE:
        yield k.store(child_counter.state, PERF_COUNTER_STATE_INACTIVE)  # K3286 P3227
    else:
        yield k.store(child_counter.state, PERF_COUNTER_STATE_OFF)  # K3288 P3229
    yield k.mutex_unlock(parent_counter.mutex)  # K3290 P3231
    return child_counter


def perf_counter_init_task(k: Kernel, s: PerfSystem, child: task_struct) -> Steps:
    """perf_counter_init_task, from copy_process in the parent."""
    parent = k.current
    if s.v.dynamic_ctx:  # hunk @@ -3382
        yield k.store(child.perf_counter_ctxp, None)  # K3433
        child_ctx = yield k.kmalloc(  # K3441; initialised below, folded in here
            perf_counter_context, may_fail=s.failures, **__perf_counter_init_context(child)
        )
        if child_ctx is None:
            return
        s.creating.add(child_ctx)
        parent_ctx = yield _ctxp(k, s, parent)  # K3445
        if parent_ctx is None or not (yield k.load(parent_ctx.nr_counters)):  # K3446
            return
        yield k.store(child.perf_counter_ctxp, child_ctx)  # K3450
        s.creating.discard(child_ctx)
    else:
        child_ctx = child.perf_counter_ctx  # initialised in setup
        parent_ctx = parent.perf_counter_ctx
        if not (yield k.load(parent_ctx.nr_counters)):  # P3395
            return
    yield k.mutex_lock(parent_ctx.mutex)  # K3456 P3402
    for node in (yield from k.list_entries(parent_ctx.event_list)):  # K3462 P3408
        owner = node.owner
        assert isinstance(owner, perf_counter)
        if not owner.inherit:  # hw_event.inherit (constant)
            continue
        if (yield from inherit_counter(k, s, owner, child, child_ctx)) is None:  # K3469 P3415
            break  # inherit_group failed
    yield k.mutex_unlock(parent_ctx.mutex)  # K3474 P3420
