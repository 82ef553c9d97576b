"""The perf_counter structs and the versions of the code, shared by every scenario.

``Flavor`` says which hunks of a63eaf34 (and of the follow-up c93f7669) a
variant runs; the structs carry the kernel's field names as ctxcheck cells.
Nothing here is a step: :mod:`models.perf_counter.kernel` has the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctxcheck import (
    Cell,
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
    #: c93f7669 (attach vs exit): PF_EXITING check, reference taken with
    #: atomic_inc_not_zero under ctx->lock, pointer cleared under ctx->lock,
    #: put_ctx through RCU, put_ctx on open's error path
    attach_exit_fix: bool = False
    #: find_get_context orders the context's initialisation before its
    #: publication with smp_wmb() (K1294); matters only under --memory-model lkmm
    smp_wmb: bool = True
    #: what-if, not upstream code: the loads of task->perf_counter_ctxp are
    #: READ_ONCE (marked) instead of plain; matters only under lkmm
    ctxp_read_once: bool = False


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
    "mutant-no-guard-no-exit-mutex": Flavor(
        dynamic_ctx=True, list_empty_check=False, exit_ctx_mutex=False
    ),
    "mutant-no-exit-mutex": Flavor(dynamic_ctx=True, exit_ctx_mutex=False),
    "c93f7669": Flavor(dynamic_ctx=True, attach_exit_fix=True),
    "mutant-no-smp-wmb": Flavor(dynamic_ctx=True, smp_wmb=False),
    "post-read-once": Flavor(dynamic_ctx=True, ctxp_read_once=True),
    "mutant-no-smp-wmb-read-once": Flavor(dynamic_ctx=True, smp_wmb=False, ctxp_read_once=True),
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
    "mutant-no-guard-no-exit-mutex": "a63eaf34 without the list_empty guard and "
    "without ctx->mutex in perf_counter_exit_task (both mechanisms removed)",
    "mutant-no-exit-mutex": "a63eaf34 without ctx->mutex in perf_counter_exit_task "
    "(the guard alone)",
    "c93f7669": "a63eaf34 with the upstream attach-vs-exit fix c93f7669 applied",
    "mutant-no-smp-wmb": "a63eaf34 without the smp_wmb() before find_get_context's "
    "cmpxchg (a question for --memory-model lkmm)",
    "post-read-once": "what-if, not upstream: a63eaf34 with task->perf_counter_ctxp read "
    "by READ_ONCE instead of a plain load",
    "mutant-no-smp-wmb-read-once": "what-if, not upstream: mutant-no-smp-wmb with "
    "task->perf_counter_ctxp read by READ_ONCE",
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
    ``inherit`` is ``hw_event.inherit`` and ``tracks`` is ``hw_event.mmap``,
    ``.munmap`` and ``.comm`` together; all are constant for its life.
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
        kwargs.setdefault("tracks", False)
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
    nr_mmap_tracking: Cell = field(0)
    nr_munmap_tracking: Cell = field(0)
    nr_comm_tracking: Cell = field(0)


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
