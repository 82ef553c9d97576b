"""spin.ctx_create: the SPIN-granularity scenario of ctx_create, step for step as the .pml.

This is ``../shared/spin/ctx_create.pml`` written for ctxcheck, so that
``ctxcheck bench --spin`` runs both checkers on the same race at the same
granularity (issue 14): ``openers`` monitor tasks call
``find_get_context(pid=T, cpu=-1)`` then ``perf_counter_alloc`` on one task
T whose ``perf_counter_ctxp`` is NULL. Each opener's steps are the .pml's
statements that touch shared memory, in its order (kernel/perf_counter.c at
a63eaf34, ``post``; its parent 34adc806, ``pre``):

1. ``get_task_struct(task)``: ``atomic_inc(&task->usage)`` (.pml step 2);
2. ``ctx = task->perf_counter_ctxp``, a plain load (step 4);
3. if NULL: ``kmalloc`` + ``__perf_counter_init_context`` (refcount 1,
   ``ctx->task = task``), one step: nobody sees the object before it is
   published (steps 5.1-5.2; the .pml writes three private flags);
4. publish it (step 5.3-5.4, per variant below), ``kfree`` on losing;
5. ``counter->ctx = ctx`` (``perf_counter_alloc``);
6. ``get_ctx(ctx)``: ``atomic_inc(&ctx->refcount)``.

What it leaves out against ``perf_counter.ctx_create`` (as the .pml does):
CPUs and context switches of T (no scheduler, no ``task_ctx`` adoption, no
IPIs), ``perf_install_in_context`` and ``ctx->mutex`` (the counter is not
linked into the context: that is install_task_ctx), kmalloc failures, the
fd. So its properties are the .pml's end-state assertions (below), not
properties.ALL: no cpuctx, no list, no enable property has anything to look
at here. The .pml's ``finished`` counter and its checker process are how
Promela waits for the end; here the final properties are judged when every
opener has returned. Memory safety (a double ``kfree``, a ``get_ctx`` of a
freed context) is the primitives' own check, at the step, as the .pml
asserts at the access.

Why a package of its own (``models/spin/``) rather than
``models/perf_counter/``: it is a benchmark scenario, not part of the
regression proof (``ctxcheck prove perf_counter`` would check and report it
beside the faithful model), and not a teaching example (the engine bench
runs every explorer, naive included, on every model of ``models/examples``).

Variants and their .pml ``-D`` names: ``pre`` (-DPRE, the embedded context;
each opener stores ``ctx->task = task``), ``post`` (-DPOST, cmpxchg; the
loser frees its allocation), ``mutant-no-cmpxchg`` (-DM_CHECKSET, a plain
check then set, as ``perf_counter.ctx_create``'s mutant of that name),
``mutant-blind-store`` (-DM_STORE, the store after the NULL read of step 2).

Size: only the order of the loads and cmpxchgs of ``perf_counter_ctxp``
matters in ``post`` (increments commute, a failed cmpxchg is a read, the
rest touches the opener's own objects), so a trace is a winner and the set
of the other openers that loaded NULL before its cmpxchg:
``openers * 2**(openers - 1)`` traces (4 at 2 openers, 12 at 3, 1,024 at
8), which odpor explores exactly (tests/test_spin_model.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ctxcheck import (
    Cell,
    Config,
    Expectation,
    Kernel,
    Machine,
    Model,
    Param,
    Property,
    Struct,
    Variant,
    field,
)
from ctxcheck.kernel import Steps

#: each variant's name on the spin command line (``spin -D<NAME> -a ctx_create.pml``)
SPIN_DEFINES = {
    "pre": "PRE",
    "post": "POST",
    "mutant-no-cmpxchg": "M_CHECKSET",
    "mutant-blind-store": "M_STORE",
}


class perf_counter_context(Struct):
    """The context: its refcount and ``ctx->task``."""

    _label = "ctx"
    refcount: Cell = field(0)
    task: Cell = field(None)


class task_struct(Struct):
    """T: its usage count (``get_task_struct``) and ``perf_counter_ctxp``.

    ``perf_counter_ctx`` is 34adc806's embedded context (a constant
    attribute: its address never changes).
    """

    _label = "task"
    usage: Cell = field(1)
    perf_counter_ctxp: Cell = field(None)
    perf_counter_ctx: perf_counter_context | None


class perf_counter(Struct):
    """An opener's counter: only ``counter->ctx`` matters here."""

    _label = "counter"
    ctx: Cell = field(None)


Publish = Callable[[Kernel, task_struct, perf_counter_context], Steps]


def publish_cmpxchg(k: Kernel, task: task_struct, ctx: perf_counter_context) -> Steps:
    """a63eaf34: ``cmpxchg(&task->perf_counter_ctxp, NULL, ctx)``; the loser frees its own."""
    old = yield k.cmpxchg(task.perf_counter_ctxp, None, ctx)
    if old is not None:  # we raced with some other task
        yield k.kfree(ctx)
        return old
    return ctx


def publish_check_then_set(k: Kernel, task: task_struct, ctx: perf_counter_context) -> Steps:
    """The mutant without cmpxchg: a plain check, then a store (.pml M_CHECKSET)."""
    old = yield k.load(task.perf_counter_ctxp)
    if old is None:
        yield k.store(task.perf_counter_ctxp, ctx)
        return ctx
    yield k.kfree(ctx)
    return old


def publish_blind_store(k: Kernel, task: task_struct, ctx: perf_counter_context) -> Steps:
    """The mutant that stores after the NULL read of find_get_context (.pml M_STORE)."""
    yield k.store(task.perf_counter_ctxp, ctx)
    return ctx


PUBLISH: dict[str, Publish] = {
    "post": publish_cmpxchg,
    "mutant-no-cmpxchg": publish_check_then_set,
    "mutant-blind-store": publish_blind_store,
}


def find_get_context(k: Kernel, task: task_struct, publish: Publish) -> Steps:
    """find_get_context(pid=T, cpu=-1) at a63eaf34, at the .pml's granularity."""
    yield k.atomic_inc(task.usage)  # get_task_struct(task)
    ctx = yield k.load(task.perf_counter_ctxp)
    if ctx is None:
        ctx = yield k.kmalloc(perf_counter_context, refcount=1, task=task)
        ctx = yield from publish(k, task, ctx)
    return ctx


def find_get_context_embedded(k: Kernel, task: task_struct) -> Steps:
    """find_get_context at 34adc806: the embedded context, ``ctx->task = task``."""
    yield k.atomic_inc(task.usage)  # get_task_struct(task)
    ctx = task.perf_counter_ctx
    assert ctx is not None
    yield k.store(ctx.task, task)
    return ctx


def opener(k: Kernel, task: task_struct, counter: perf_counter, publish: Publish | None) -> Steps:
    """sys_perf_counter_open(pid=T): find the context, then point the counter at it."""
    if publish is None:
        ctx = yield from find_get_context_embedded(k, task)
    else:
        ctx = yield from find_get_context(k, task, publish)
    yield k.store(counter.ctx, ctx)  # perf_counter_alloc: counter->ctx = ctx
    yield k.atomic_inc(ctx.refcount)  # get_ctx(ctx)


@dataclass
class State:
    task: task_struct
    counters: list[perf_counter]


def setup(m: Machine, cfg: Config) -> State:
    task = m.new(task_struct, name="T", perf_counter_ctx=None)
    if cfg.variant == "pre":
        # the embedded context: T's from the start (the .pml's ctxp = EMB), and
        # a ghost refcount of 1 so that one refcount property serves every variant
        task.perf_counter_ctx = m.new(perf_counter_context, name="T.ctx", refcount=1)
        task.perf_counter_ctxp.value = task.perf_counter_ctx
    counters = []
    for i in range(cfg["openers"]):
        counter = m.new(perf_counter, name=f"counter{i}")
        counters.append(counter)
        m.spawn(f"open{i}", opener, task, counter, PUBLISH.get(cfg.variant), symmetric="openers")
    return State(task, counters)


def one_ctx_per_task(m: Machine, s: State) -> str | None:
    """T has a context and every opener's counter uses it."""
    ctx = s.task.perf_counter_ctxp.value
    if ctx is None:
        return "T has no context"
    stray = [c.name for c in s.counters if c.ctx.value is not ctx]
    return f"{', '.join(stray)} not on T's context {ctx.name}" if stray else None


def no_leak(m: Machine, s: State) -> str | None:
    """Every context allocated is T's or was freed."""
    ctx = s.task.perf_counter_ctxp.value
    lost = [obj.name for obj in m.live_heap() if obj is not ctx]
    return f"{', '.join(lost)} neither installed nor freed" if lost else None


def refcount_equals_references(m: Machine, s: State) -> str | None:
    """T's context counts T's reference and every counter's: 1 + openers."""
    ctx = s.task.perf_counter_ctxp.value
    if ctx is None:
        return None  # one_ctx_per_task says so
    want = 1 + len(s.counters)
    got = ctx.refcount.value
    return None if got == want else f"{ctx.name}.refcount is {got}, {want} references"


def task_references(m: Machine, s: State) -> str | None:
    """T's usage count is 1 + one get_task_struct per opener."""
    want = 1 + len(s.counters)
    got = s.task.usage.value
    return None if got == want else f"T.usage is {got}, expected {want}"


def _final(check: Callable[[Machine, State], str | None]) -> Property:
    return Property(check.__name__, check.__doc__ or "", check, final=True)


MODEL = Model(
    name="spin.ctx_create",
    doc=__doc__ or "",
    setup=setup,
    follows="../shared/spin/ctx_create.pml; torvalds/linux a63eaf34 (post), 34adc806 (pre)",
    params=(Param("openers", 3, 1, 8, "monitors opening a counter on T at once (the .pml's N)"),),
    variants=(
        Variant("pre", "34adc806: the context embedded in task_struct (-DPRE)"),
        Variant("post", "a63eaf34: cmpxchg publishes one context (-DPOST)"),
        Variant("mutant-no-cmpxchg", "a plain check, then a store (-DM_CHECKSET)"),
        Variant("mutant-blind-store", "a store after the NULL read (-DM_STORE)"),
    ),
    properties=tuple(
        _final(f) for f in (one_ctx_per_task, no_leak, refcount_equals_references, task_references)
    ),
    expectations=(
        Expectation("pre", True, reason="the embedded context needs no creation"),
        Expectation("post", True, reason="cmpxchg publishes one context; the loser frees its own"),
        Expectation(
            "mutant-no-cmpxchg",
            False,
            ("one_ctx_per_task",),
            "two openers both check NULL and both set: the first context is overwritten "
            "with a counter on it (and leaked, which no_leak, judged after it, would say)",
        ),
        Expectation(
            "mutant-blind-store",
            False,
            ("one_ctx_per_task",),
            "two openers both read NULL and both store: as the check-then-set mutant",
        ),
    ),
)
