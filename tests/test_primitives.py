"""Every primitive of ctxcheck/primitives/ and the kernel.py helpers, and each violation they catch.

Each test writes a small model inline and runs it under both exhaustive
explorers (the ``explorer`` fixture): either it collects the set of final
outcomes (what a litmus test pins), or it expects one violation and checks
its property, message and step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ctxcheck import (
    CPU,
    Cell,
    Kernel,
    ListHead,
    Machine,
    Mutex,
    NondeterministicModel,
    Spinlock,
    Struct,
    TaskStruct,
    field,
    list_head,
    mutex,
    spinlock,
)
from ctxcheck.kernel import Steps
from ctxcheck.primitives.lists import LIST_POISON1, LIST_POISON2

Outcomes = Callable[..., set[Any]]
Run = Callable[..., Any]


class Obj(Struct):
    """A heap or static struct with a word, a list entry and two locks."""

    _label = "obj"
    val: Cell = field(0)
    node: ListHead = list_head()
    lock: Spinlock = spinlock()
    lock2: Spinlock = spinlock()
    mtx: Mutex = mutex()


class Shared(Struct):
    """The globals of a test: a few words, a list head, a pointer."""

    _label = "g"
    x: Cell = field(0)
    y: Cell = field(0)
    seen: Cell = field(None)
    ptr: Cell = field(None)
    head: ListHead = list_head()


class Task(TaskStruct):
    """A task with nothing but what the engine knows."""


def spawn_all(m: Machine, *bodies: Callable[..., Steps], args: tuple[Any, ...] = ()) -> None:
    """Start one unbound thread per body, named T0, T1, ..."""
    for i, body in enumerate(bodies):
        m.spawn(f"T{i}", body, *args)


def only_violation(result: Any, prop: str) -> Any:
    """The result has exactly one violated property, ``prop``; return it."""
    assert result.violated() == [prop], result.summary()
    return result.violations[0]


# ------------------------------------------------------------------ cells


def test_load_store_race_outcomes(outcomes: Outcomes) -> None:
    def writer(k: Kernel, g: Shared) -> Steps:
        yield k.store(g.x, 1)

    def reader(k: Kernel, g: Shared) -> Steps:
        v = yield k.load(g.x)
        yield k.store(g.seen, v)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        spawn_all(m, writer, reader, args=(g,))
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {0, 1}


def test_cmpxchg_returns_old_and_only_one_wins(outcomes: Outcomes) -> None:
    def claim(k: Kernel, g: Shared, me: str) -> Steps:
        old = yield k.cmpxchg(g.ptr, None, me)
        if old is None:
            yield k.atomic_inc(g.x)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("A", claim, g, "A")
        m.spawn("B", claim, g, "B")
        return g

    assert outcomes(setup, lambda m, g: (g.ptr.value, g.x.value)) == {("A", 1), ("B", 1)}


def test_xchg_hands_over_exactly_once(outcomes: Outcomes) -> None:
    def take(k: Kernel, g: Shared) -> Steps:
        got = yield k.xchg(g.ptr, None)
        if got is not None:
            yield k.atomic_add_return(g.x, got)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared, ptr=5)
        spawn_all(m, take, take, args=(g,))
        return g

    assert outcomes(setup, lambda m, g: (g.ptr.value, g.x.value)) == {(None, 5)}


def test_atomic_family(outcomes: Outcomes) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        yield k.atomic_set(g.x, 2)
        yield k.atomic_inc(g.x)
        yield k.atomic_dec(g.x)
        last = yield k.atomic_dec_and_test(g.x)
        zero = yield k.atomic_dec_and_test(g.x)
        revived = yield k.atomic_inc_not_zero(g.x)
        yield k.atomic_set(g.y, 0)
        dead = yield k.atomic_inc_not_zero(g.y)
        n = yield k.atomic_read(g.x)
        yield k.store(g.seen, (last, zero, revived, dead, n))

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, g)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {(False, True, False, False, 0)}


def test_atomic_inc_loses_nothing_where_load_store_does(outcomes: Outcomes) -> None:
    def racy(k: Kernel, g: Shared) -> Steps:
        v = yield k.load(g.x)
        yield k.store(g.x, v + 1)

    def atomic(k: Kernel, g: Shared) -> Steps:
        yield k.atomic_inc(g.x)

    def setup_with(body: Callable[..., Steps]) -> Callable[[Machine], Shared]:
        def setup(m: Machine) -> Shared:
            g = m.new(Shared)
            spawn_all(m, body, body, body, args=(g,))
            return g

        return setup

    assert outcomes(setup_with(racy), lambda m, g: g.x.value) == {1, 2, 3}
    assert outcomes(setup_with(atomic), lambda m, g: g.x.value) == {3}


def test_cell_op_on_a_non_cell_is_a_model_error(run: Run) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        yield k.load(g.head)  # a list head, not a word

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, g)
        return g

    from ctxcheck import ModelError

    with pytest.raises(ModelError, match=r"(?s)load needs a Cell.*test_primitives\.py:\d+"):
        run(setup)


# ------------------------------------------------------------------- heap


def test_use_after_free_through_a_field(run: Run) -> None:
    def owner(k: Kernel, g: Shared) -> Steps:
        obj = yield k.kmalloc(Obj, val=7)
        yield k.store(g.ptr, obj)
        yield k.store(g.ptr, None)
        yield k.kfree(obj)

    def user(k: Kernel, g: Shared) -> Steps:
        obj = yield k.load(g.ptr)
        if obj is not None:
            yield k.load(obj.val)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        spawn_all(m, owner, user, args=(g,))
        return g

    v = only_violation(run(setup), "memory_safety")
    assert "use after free: load obj#1.val" in v.message
    assert "freed at step 5" in v.message
    ops_done = [e.op for e in v.events]
    assert ops_done[-2:] == ["kfree", "load"]
    assert v.events[-1].thread == "T1"


def test_use_after_free_by_every_kind_of_access(run: Run) -> None:
    accesses: list[Callable[[Kernel, Obj, Shared], Any]] = [
        lambda k, o, g: k.store(o.val, 1),
        lambda k, o, g: k.atomic_inc(o.val),
        lambda k, o, g: k.cmpxchg(o.val, 0, 1),
        lambda k, o, g: k.list_add(o.node, g.head),
        lambda k, o, g: k.list_empty(o.node),
        lambda k, o, g: k.spin_lock(o.lock),
    ]
    for access in accesses:

        def body(k: Kernel, g: Shared, access: Any = access) -> Steps:
            obj = yield k.kmalloc(Obj)
            yield k.kfree(obj)
            yield access(k, obj, g)

        def setup(m: Machine, body: Any = body) -> Shared:
            g = m.new(Shared)
            m.spawn("T", body, g)
            return g

        v = only_violation(run(setup), "memory_safety")
        assert v.message.startswith("use after free"), v.message
        assert v.steps == 3


def test_double_free(run: Run) -> None:
    def put(k: Kernel, g: Shared) -> Steps:
        obj = yield k.load(g.ptr)
        yield k.kfree(obj)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        g.ptr.value = m.alloc(Obj, name="victim")
        spawn_all(m, put, put, args=(g,))
        return g

    v = only_violation(run(setup), "memory_safety")
    assert v.message.startswith("double free: victim was already freed at step")
    assert [e.op for e in v.events].count("kfree") == 2


def test_kfree_of_a_static_struct(run: Run) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        yield k.kfree(g)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared, name="init_globals")
        m.spawn("T", body, g)
        return g

    v = only_violation(run(setup), "memory_safety")
    assert v.message == "kfree of init_globals, not a heap object"


def test_kfree_null_is_a_no_op(run: Run) -> None:
    def body(k: Kernel) -> Steps:
        yield k.kfree(None)
        yield k.kfree(None)

    def setup(m: Machine) -> None:
        m.spawn("T", body)

    result = run(setup)
    assert result.verdict == "holds"


def test_kmalloc_may_fail_is_explored_both_ways(run: Run, outcomes: Outcomes) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        obj = yield k.kmalloc(Obj, may_fail=True, val=3)
        yield k.store(g.seen, None if obj is None else ("ok", obj.val.value))

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, g)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {None, ("ok", 3)}
    assert run(setup).stats.executions == 2


def test_kmalloc_without_may_fail_never_fails(outcomes: Outcomes) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        obj = yield k.kmalloc(Obj, name="mine")
        yield k.store(g.seen, obj.name)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, g)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {"mine"}


def test_live_heap_tracks_frees(outcomes: Outcomes) -> None:
    def body(k: Kernel) -> Steps:
        a = yield k.kmalloc(Obj)
        yield k.kmalloc(Obj)
        yield k.kfree(a)

    def setup(m: Machine) -> None:
        m.spawn("T", body)

    assert outcomes(setup, lambda m, s: tuple(o.name for o in m.live_heap())) == {("obj#2",)}


# ------------------------------------------------------------------ lists


def _names(head: ListHead) -> tuple[str, ...]:
    return tuple(n.name for n in head.entries())


def test_list_add_add_tail_and_walk(outcomes: Outcomes) -> None:
    @dataclass
    class S:
        g: Shared
        a: Obj
        b: Obj
        c: Obj

    def body(k: Kernel, s: S) -> Steps:
        yield k.list_add(s.a.node, s.g.head)
        yield k.list_add_tail(s.b.node, s.g.head)
        yield k.list_add_rcu(s.c.node, s.g.head)
        walked = yield from k.list_entries(s.g.head)
        empty = yield k.list_empty(s.g.head)
        yield k.store(s.g.seen, (tuple(n.name for n in walked), empty))

    def setup(m: Machine) -> S:
        s = S(m.new(Shared), m.new(Obj, name="a"), m.new(Obj, name="b"), m.new(Obj, name="c"))
        m.spawn("T", body, s)
        return s

    walked = ("c.node", "a.node", "b.node")
    assert outcomes(setup, lambda m, s: s.g.seen.value) == {(walked, False)}
    assert outcomes(setup, lambda m, s: _names(s.g.head)) == {walked}


def test_list_del_variants_and_poison(outcomes: Outcomes) -> None:
    @dataclass
    class S:
        g: Shared
        a: Obj
        b: Obj
        c: Obj

    def body(k: Kernel, s: S) -> Steps:
        for o in (s.a, s.b, s.c):
            yield k.list_add_tail(o.node, s.g.head)
        yield k.list_del(s.a.node)
        yield k.list_del_rcu(s.b.node)
        yield k.list_del_init(s.c.node)
        empty_c = yield k.list_empty(s.c.node)
        empty_head = yield k.list_empty(s.g.head)
        yield k.store(s.g.seen, (empty_c, empty_head))

    def setup(m: Machine) -> S:
        s = S(m.new(Shared), m.new(Obj, name="a"), m.new(Obj, name="b"), m.new(Obj, name="c"))
        m.spawn("T", body, s)
        return s

    def observe(m: Machine, s: S) -> Any:
        a, b = s.a.node, s.b.node
        return (
            s.g.seen.value,
            a.next is LIST_POISON1 and a.prev is LIST_POISON2,
            b.prev is LIST_POISON2 and b.next is s.c.node,  # list_del_rcu keeps ->next
        )

    assert outcomes(setup, observe) == {((True, True), True, True)}


def test_list_move_tail(outcomes: Outcomes) -> None:
    @dataclass
    class S:
        src: Shared
        dst: Shared
        a: Obj
        b: Obj

    def body(k: Kernel, s: S) -> Steps:
        yield k.list_add_tail(s.a.node, s.src.head)
        yield k.list_add_tail(s.b.node, s.src.head)
        yield k.list_move_tail(s.a.node, s.dst.head)

    def setup(m: Machine) -> S:
        s = S(m.new(Shared, name="src"), m.new(Shared, name="dst"),
              m.new(Obj, name="a"), m.new(Obj, name="b"))  # fmt: skip
        m.spawn("T", body, s)
        return s

    observed = outcomes(setup, lambda m, s: (_names(s.src.head), _names(s.dst.head)))
    assert observed == {(("b.node",), ("a.node",))}


def test_list_del_of_a_deleted_entry(run: Run) -> None:
    def remove(k: Kernel, o: Obj) -> Steps:
        yield k.list_del(o.node)

    def setup(m: Machine) -> Obj:
        g = m.new(Shared)
        o = m.new(Obj, name="e")
        _link(g.head, o.node)
        spawn_all(m, remove, remove, args=(o,))
        return o

    v = only_violation(run(setup), "list_integrity")
    assert (
        v.message
        == "list_del of e.node, which was already deleted (its pointers hold LIST_POISON2)"
    )
    assert v.steps == 2


def test_list_del_rcu_twice(run: Run) -> None:
    def remove(k: Kernel, o: Obj) -> Steps:
        yield k.list_del_rcu(o.node)
        yield k.list_del_rcu(o.node)

    def setup(m: Machine) -> Obj:
        g = m.new(Shared)
        o = m.new(Obj, name="e")
        _link(g.head, o.node)
        m.spawn("T", remove, o)
        return o

    v = only_violation(run(setup), "list_integrity")
    assert "list_del_rcu of e.node, which was already deleted" in v.message
    assert v.steps == 2


def test_list_del_init_twice_is_harmless(run: Run) -> None:
    def remove(k: Kernel, o: Obj) -> Steps:
        yield k.list_del_init(o.node)
        yield k.list_del_init(o.node)

    def setup(m: Machine) -> Obj:
        g = m.new(Shared)
        o = m.new(Obj)
        _link(g.head, o.node)
        m.spawn("T", remove, o)
        return o

    assert run(setup).verdict == "holds"


def test_list_add_of_a_linked_entry(run: Run) -> None:
    def add(k: Kernel, g: Shared, o: Obj) -> Steps:
        yield k.list_add(o.node, g.head)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        o = m.new(Obj, name="e")
        spawn_all(m, add, add, args=(g, o))
        return g

    v = only_violation(run(setup), "list_integrity")
    assert v.message == "list_add of e.node, which is already on a list"


def test_list_del_with_corrupted_neighbours(run: Run) -> None:
    def remove(k: Kernel, o: Obj) -> Steps:
        yield k.list_del(o.node)

    def setup(m: Machine) -> Obj:
        g = m.new(Shared)
        a = m.new(Obj, name="a")
        b = m.new(Obj, name="b")
        _link(g.head, a.node)
        _link(g.head, b.node)
        b.node.prev = g.head  # b no longer points back at a: a torn list
        m.spawn("T", remove, a)
        return a

    v = only_violation(run(setup), "list_integrity")
    assert v.message == "list_del of a.node: list corrupted around it"


def test_list_del_of_an_uninitialised_entry(run: Run) -> None:
    def remove(k: Kernel, o: Obj) -> Steps:
        yield k.list_del(o.node)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj, name="raw")
        o.node.next = o.node.prev = None
        m.spawn("T", remove, o)
        return o

    v = only_violation(run(setup), "list_integrity")
    assert v.message == "list_del of raw.node, which was never initialised"


def test_list_walk_into_a_deleted_entry(run: Run) -> None:
    def walker(k: Kernel, g: Shared, o: Obj) -> Steps:
        yield k.list_del(o.node)
        yield k.list_next(o.node)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        o = m.new(Obj, name="e")
        _link(g.head, o.node)
        m.spawn("T", walker, g, o)
        return g

    v = only_violation(run(setup), "list_integrity")
    assert v.message == "list walk reached e.node->next = LIST_POISON1"


def test_list_op_on_a_non_list_is_a_model_error(run: Run) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        yield k.list_del(g.x)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, g)
        return g

    from ctxcheck import ModelError

    with pytest.raises(ModelError, match="list_del needs a ListHead"):
        run(setup)


def _link(head: ListHead, node: ListHead) -> None:
    """list_add_tail done in setup (not a step)."""
    prev = head.prev
    assert isinstance(prev, ListHead)
    node.prev, node.next = prev, head
    prev.next = node
    head.prev = node


# ------------------------------------------------------------------ locks


def test_spinlock_gives_mutual_exclusion(outcomes: Outcomes) -> None:
    def inc(k: Kernel, o: Obj) -> Steps:
        yield k.spin_lock(o.lock)
        v = yield k.load(o.val)
        yield k.store(o.val, v + 1)
        yield k.spin_unlock(o.lock)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj)
        spawn_all(m, inc, inc, inc, args=(o,))
        return o

    assert outcomes(setup, lambda m, o: o.val.value) == {3}


def test_mutex_gives_mutual_exclusion(outcomes: Outcomes) -> None:
    def inc(k: Kernel, o: Obj) -> Steps:
        yield k.mutex_lock(o.mtx)
        v = yield k.load(o.val)
        yield k.store(o.val, v + 1)
        yield k.mutex_unlock(o.mtx)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj)
        spawn_all(m, inc, inc, args=(o,))
        return o

    assert outcomes(setup, lambda m, o: o.val.value) == {2}


def test_spin_lock_irqsave_returns_and_restores_flags(outcomes: Outcomes) -> None:
    def body(k: Kernel, o: Obj, g: Shared) -> Steps:
        yield k.local_irq_disable()
        outer = yield from k.spin_lock_irqsave(o.lock)
        yield from k.spin_unlock_irqrestore(o.lock, outer)
        still_off = k._thread.irqs_off
        yield k.local_irq_enable()
        flags = yield from k.spin_lock_irqsave(o.lock)
        yield from k.spin_unlock_irqrestore(o.lock, flags)
        yield from k.spin_lock_irq(o.lock)
        yield from k.spin_unlock_irq(o.lock)
        yield k.store(g.seen, (outer, still_off, flags, k._thread.irqs_off))

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, m.new(Obj), g)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {(True, True, False, False)}


def test_unlock_by_non_holder(run: Run) -> None:
    def taker(k: Kernel, o: Obj) -> Steps:
        yield k.spin_lock(o.lock)
        yield k.spin_unlock(o.lock)

    def stranger(k: Kernel, o: Obj) -> Steps:
        yield k.spin_unlock(o.lock)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj, name="o")
        m.spawn("owner", taker, o)
        m.spawn("stranger", stranger, o)
        return o

    result = run(setup)
    v = only_violation(result, "locking")
    assert v.message in {
        "stranger releases o.lock, held by nobody",
        "stranger releases o.lock, held by owner",
    }


def test_mutex_unlock_of_a_free_mutex(run: Run) -> None:
    def body(k: Kernel, o: Obj) -> Steps:
        yield k.mutex_unlock(o.mtx)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj, name="o")
        m.spawn("T", body, o)
        return o

    v = only_violation(run(setup), "locking")
    assert v.message == "T releases o.mtx, held by nobody"


def test_mutex_with_irqs_off(run: Run) -> None:
    def body(k: Kernel, o: Obj) -> Steps:
        flags = yield from k.spin_lock_irqsave(o.lock)
        yield k.mutex_lock(o.mtx)
        yield k.mutex_unlock(o.mtx)
        yield from k.spin_unlock_irqrestore(o.lock, flags)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj, name="o")
        m.spawn("T", body, o)
        return o

    v = only_violation(run(setup), "locking")
    assert v.message == "mutex_lock(o.mtx) with IRQs off: sleeping in atomic context"
    assert v.steps == 3


def test_aa_deadlock(run: Run) -> None:
    def body(k: Kernel, o: Obj) -> Steps:
        yield k.spin_lock(o.lock)
        yield k.spin_lock(o.lock)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj, name="o")
        m.spawn("T", body, o)
        return o

    v = only_violation(run(setup), "deadlock")
    assert v.message == "T takes o.lock, which it already holds (AA deadlock)"


def test_abba_deadlock_reported_with_the_cycle(run: Run) -> None:
    def ab(k: Kernel, o: Obj) -> Steps:
        yield k.spin_lock(o.lock)
        yield k.spin_lock(o.lock2)
        yield k.spin_unlock(o.lock2)
        yield k.spin_unlock(o.lock)

    def ba(k: Kernel, o: Obj) -> Steps:
        yield k.spin_lock(o.lock2)
        yield k.spin_lock(o.lock)
        yield k.spin_unlock(o.lock)
        yield k.spin_unlock(o.lock2)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj, name="o")
        m.spawn("A", ab, o)
        m.spawn("B", ba, o)
        return o

    v = only_violation(run(setup), "deadlock")
    assert "A waits for o.lock2 held by B" in v.message
    assert "B waits for o.lock held by A" in v.message
    assert v.message.split("Cycle: ")[1] in {"A -> B -> A", "B -> A -> B"}
    assert v.steps == 2


def test_lock_order_without_cycle_holds(run: Run) -> None:
    def ab(k: Kernel, o: Obj) -> Steps:
        yield k.spin_lock(o.lock)
        yield k.spin_lock(o.lock2)
        yield k.spin_unlock(o.lock2)
        yield k.spin_unlock(o.lock)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj)
        spawn_all(m, ab, ab, args=(o,))
        return o

    assert run(setup).verdict == "holds"


def test_thread_finishing_with_a_lock_held(run: Run) -> None:
    def body(k: Kernel, o: Obj) -> Steps:
        yield k.spin_lock(o.lock)

    def setup(m: Machine) -> Obj:
        o = m.new(Obj, name="o")
        m.spawn("T", body, o)
        return o

    v = only_violation(run(setup), "locking")
    assert v.message == "T finished holding o.lock"
    assert v.steps == 1


def test_interrupt_returning_with_a_lock_held(run: Run) -> None:
    def handler(k: Kernel, o: Obj) -> Steps:
        yield k.irq_enter()
        yield k.spin_lock(o.lock)
        yield k.irq_exit()

    def setup(m: Machine) -> Obj:
        (cpu,) = m.add_cpus(1)
        o = m.new(Obj, name="o")
        m.spawn("irq", handler, o, cpu=cpu, irq=True)
        return o

    v = only_violation(run(setup), "locking")
    assert v.message == "irq returns from interrupt holding o.lock"


# ------------------------------------------------------- CPUs and interrupts


@dataclass
class OneCpu:
    g: Shared
    cpu: CPU
    task: Task


def _one_cpu(m: Machine) -> OneCpu:
    (cpu,) = m.add_cpus(1)
    task = m.new(Task, name="p", cpu=cpu)
    cpu.curr.value = task
    return OneCpu(m.new(Shared), cpu, task)


def _flip_with_irqs(off: bool) -> Callable[..., Steps]:
    def flip(k: Kernel, g: Shared) -> Steps:
        if off:
            yield k.local_irq_disable()
        yield k.store(g.x, 1)
        yield k.store(g.x, 0)
        if off:
            yield k.local_irq_enable()

    return flip


def _peek_twice(k: Kernel, g: Shared) -> Steps:
    yield k.irq_enter()
    a = yield k.load(g.x)
    b = yield k.load(g.x)
    yield k.store(g.seen, (a, b))
    yield k.irq_exit()


@pytest.mark.parametrize("irqs_off", [True, False])
def test_interrupt_entry_blocked_while_irqs_off(outcomes: Outcomes, irqs_off: bool) -> None:
    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        m.spawn("p", _flip_with_irqs(irqs_off), s.g, cpu=s.cpu, task=s.task)
        m.spawn("irq", _peek_twice, s.g, cpu=s.cpu, irq=True)
        return s

    seen = outcomes(setup, lambda m, s: s.g.seen.value)
    # The handler owns the CPU: the task never moves between its two loads.
    assert all(a == b for a, b in seen)
    assert seen == ({(0, 0)} if irqs_off else {(0, 0), (1, 1)})


def test_local_irq_save_restore_nests(outcomes: Outcomes) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        outer = yield k.local_irq_save()
        inner = yield k.local_irq_save()
        yield k.store(g.x, 1)
        yield k.local_irq_restore(inner)
        yield k.store(g.x, 2)  # IRQs still off: the outer section
        yield k.local_irq_restore(outer)
        yield k.store(g.y, (outer, inner))

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        m.spawn("p", body, s.g, cpu=s.cpu, task=s.task)
        m.spawn("irq", _peek_twice, s.g, cpu=s.cpu, irq=True)
        return s

    observed = outcomes(setup, lambda m, s: (s.g.seen.value[0], s.g.y.value))
    assert observed == {(0, (False, True)), (2, (False, True))}


def test_preempting_interrupt_waits_for_preempt_enable(outcomes: Outcomes) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        yield k.preempt_disable()
        yield k.store(g.x, 1)
        yield k.store(g.x, 0)
        yield k.preempt_enable()

    def tick(k: Kernel, g: Shared, preempt: bool) -> Steps:
        yield k.irq_enter(preempt=preempt)
        v = yield k.load(g.x)
        yield k.store(g.seen, v)
        yield k.irq_exit()

    def setup_with(preempt: bool) -> Callable[[Machine], OneCpu]:
        def setup(m: Machine) -> OneCpu:
            s = _one_cpu(m)
            m.spawn("p", body, s.g, cpu=s.cpu, task=s.task)
            m.spawn("tick", tick, s.g, preempt, cpu=s.cpu, irq=True)
            return s

        return setup

    assert outcomes(setup_with(True), lambda m, s: s.g.seen.value) == {0}
    assert outcomes(setup_with(False), lambda m, s: s.g.seen.value) == {0, 1}


def test_interrupt_thread_must_enter_first(run: Run) -> None:
    def handler(k: Kernel, g: Shared) -> Steps:
        yield k.load(g.x)

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        m.spawn("irq", handler, s.g, cpu=s.cpu, irq=True)
        return s

    from ctxcheck import ModelError

    with pytest.raises(
        ModelError, match=r"interrupt thread irq must start with `yield k.irq_enter\(\)`"
    ):
        run(setup)


def _ipi_setup(irqs_off: bool) -> Callable[[Machine], OneCpu]:
    def record(k: Kernel, g: Shared) -> Steps:
        v = yield k.load(g.x)
        yield k.store(g.seen, v)

    def caller(k: Kernel, s: OneCpu) -> Steps:
        yield from k.smp_call_function_single(s.cpu, record, s.g)
        yield k.store(s.g.y, "returned")

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        m.add_cpus(1)
        other = m.cpus[1]
        q = m.new(Task, name="q", cpu=other)
        other.curr.value = q
        m.spawn("p", _flip_with_irqs(irqs_off), s.g, cpu=s.cpu, task=s.task)
        m.spawn("q", caller, s, cpu=other, task=q)
        return s

    return setup


@pytest.mark.parametrize("irqs_off", [True, False])
def test_ipi_lands_only_when_irqs_are_on(outcomes: Outcomes, irqs_off: bool) -> None:
    seen = outcomes(_ipi_setup(irqs_off), lambda m, s: (s.g.seen.value, s.g.y.value))
    assert seen == ({(0, "returned")} if irqs_off else {(0, "returned"), (1, "returned")})


def test_ipi_handler_is_an_interrupt_thread_of_the_target_cpu(
    inline_model: Callable[..., Any],
) -> None:
    from ctxcheck.counterexample import record

    model = inline_model(_ipi_setup(False))
    ex = record(model, model.config(None, {}), 100, [(1, 0), (2, 0)])
    assert [e.thread for e in ex.events] == ["q", "ipi:record@cpu0"]
    assert [e.text for e in ex.events] == ["spawn(ipi:record@cpu0)", "irq_enter()"]
    assert ex.events[1].cpu == "cpu0"
    assert ex.enabled() == [2]  # the handler owns cpu0; q waits for it


def test_smp_call_function_single_on_own_cpu_runs_in_place_with_irqs_off(
    inline_model: Callable[..., Any],
) -> None:
    def func(k: Kernel, g: Shared) -> Steps:
        yield k.store(g.x, 1)

    def body(k: Kernel, s: OneCpu) -> Steps:
        yield from k.smp_call_function_single(s.cpu, func, s.g)
        yield k.store(s.g.y, 1)

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        m.spawn("p", body, s, cpu=s.cpu, task=s.task)
        return s

    from ctxcheck.counterexample import record

    model = inline_model(setup)
    ex = record(model, model.config(None, {}), 100, [(0, 0)] * 4)
    assert [(e.thread, e.op, e.irqs_off) for e in ex.events] == [
        ("p", "local_irq_save", True),
        ("p", "store", True),
        ("p", "local_irq_restore", True),
        ("p", "store", False),
    ]
    assert len(ex.machine.threads) == 1  # no IPI thread


@dataclass
class Oncpu:
    g: Shared
    cpu: CPU
    p: Task
    other: Task


def _oncpu_setup(p_is_current: bool, switcher: bool) -> Callable[[Machine], Oncpu]:
    def func(k: Kernel, g: Shared) -> Steps:
        yield k.store(g.x, k.current.name)

    def caller(k: Kernel, s: Oncpu) -> Steps:
        yield from k.task_oncpu_function_call(s.p, func, s.g)

    def schedule(k: Kernel, s: Oncpu) -> Steps:
        yield k.context_switch(s.cpu, s.other)

    def setup(m: Machine) -> Oncpu:
        cpu0, cpu1 = m.add_cpus(2)
        p = m.new(Task, name="p", cpu=cpu0)
        other = m.new(Task, name="other", cpu=cpu0)
        cpu0.curr.value = p if p_is_current else other
        s = Oncpu(m.new(Shared), cpu0, p, other)
        m.spawn("caller", caller, s, cpu=cpu1)
        if switcher:
            m.spawn("sched", schedule, s)
        return s

    return setup


@pytest.mark.parametrize(
    ("p_is_current", "switcher", "expected"),
    [
        (True, False, {"p"}),
        (False, False, {0}),
        # The task_curr check is a snapshot: p may be switched out before the
        # IPI lands, and the function then runs over the next task.
        (True, True, {"p", "other", 0}),
    ],
)
def test_task_oncpu_function_call(
    outcomes: Outcomes, p_is_current: bool, switcher: bool, expected: set[Any]
) -> None:
    setup = _oncpu_setup(p_is_current, switcher)
    assert outcomes(setup, lambda m, s: s.g.x.value) == expected


def test_task_curr(outcomes: Outcomes) -> None:
    def body(k: Kernel, s: OneCpu, q: Task) -> Steps:
        a = yield from k.task_curr(s.task)
        b = yield from k.task_curr(q)
        c = yield from k.task_curr(s.g)  # not a task: no CPU
        yield k.store(s.g.seen, (a, b, c))

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        q = m.new(Task, name="q", cpu=s.cpu)
        m.spawn("T", body, s, q)
        return s

    assert outcomes(setup, lambda m, s: s.g.seen.value) == {(True, False, False)}


def test_context_switch_disables_the_switched_out_task(
    inline_model: Callable[..., Any],
) -> None:
    from ctxcheck.runtime import Execution

    def work(k: Kernel, g: Shared) -> Steps:
        yield k.store(g.x, 1)
        yield k.store(g.x, 2)

    def switch(k: Kernel, cpu: CPU, to: Task) -> Steps:
        yield k.context_switch(cpu, to)

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        q = m.new(Task, name="q", cpu=s.cpu)
        m.spawn("p", work, s.g, cpu=s.cpu, task=s.task)
        m.spawn("q", work, s.g, cpu=s.cpu, task=q)
        m.spawn("sched", switch, s.cpu, q)
        return s

    model = inline_model(setup)
    ex = Execution(model, model.config(None, {}))
    assert ex.enabled() == [0, 2]  # q is not current
    ex.step(0)
    ex.step(2)  # cpu0 now runs q
    assert ex.enabled() == [1]
    ex.step(1)
    ex.step(1)
    assert ex.finished
    assert ex.violation is not None
    assert ex.violation.prop == "deadlock"
    assert ex.violation.message == "no thread can move: p is not running: cpu0.curr is q"


def test_irq_handler_sees_the_interrupted_task_as_current(outcomes: Outcomes) -> None:
    def handler(k: Kernel, g: Shared) -> Steps:
        yield k.irq_enter()
        yield k.store(g.seen, k.current.name if k.current is not None else None)
        yield k.irq_exit()

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        m.spawn("irq", handler, s.g, cpu=s.cpu, irq=True)
        return s

    assert outcomes(setup, lambda m, s: s.g.seen.value) == {"p"}


def test_interrupt_enters_an_idle_cpu(outcomes: Outcomes) -> None:
    def handler(k: Kernel, g: Shared) -> Steps:
        yield k.irq_enter()
        yield k.store(g.seen, k.current)
        yield k.irq_exit()

    def setup(m: Machine) -> Shared:
        (cpu,) = m.add_cpus(1)
        g = m.new(Shared, seen="unset")
        m.spawn("irq", handler, g, cpu=cpu, irq=True)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {None}


# -------------------------------------------------------------------- RCU


@dataclass
class Rcu:
    g: Shared


def _rcu_setup(deferred: bool) -> Callable[[Machine], Rcu]:
    def reader(k: Kernel, g: Shared) -> Steps:
        yield k.rcu_read_lock()
        obj = yield k.load(g.ptr)
        if obj is not None:
            yield k.load(obj.val)
        yield k.rcu_read_unlock()

    def free_obj(k: Kernel, obj: Obj) -> Steps:
        yield k.kfree(obj)

    def updater(k: Kernel, g: Shared) -> Steps:
        obj = yield k.load(g.ptr)
        yield k.store(g.ptr, None)
        if deferred:
            yield k.call_rcu(free_obj, obj)
        else:
            yield k.kfree(obj)

    def setup(m: Machine) -> Rcu:
        g = m.new(Shared)
        g.ptr.value = m.alloc(Obj, name="old")
        m.spawn("reader", reader, g)
        m.spawn("updater", updater, g)
        return Rcu(g)

    return setup


def test_call_rcu_callback_runs_after_readers(run: Run) -> None:
    result = run(_rcu_setup(deferred=True))
    assert result.verdict == "holds", result.summary()


def test_immediate_free_under_a_reader_is_caught(run: Run) -> None:
    v = only_violation(run(_rcu_setup(deferred=False)), "memory_safety")
    assert v.message.startswith("use after free: load old.val")


def test_call_rcu_callback_is_its_own_thread(outcomes: Outcomes) -> None:
    observed = outcomes(
        _rcu_setup(deferred=True),
        lambda m, s: (tuple(t.name for t in m.threads), tuple(o.name for o in m.live_heap())),
    )
    assert observed == {(("reader", "updater", "rcu:free_obj"), ())}


def test_synchronize_rcu_waits_for_readers_that_started_before(outcomes: Outcomes) -> None:
    def reader(k: Kernel, g: Shared) -> Steps:
        yield k.rcu_read_lock()
        published = yield k.load(g.y)
        if published == 0:
            yield k.store(g.x, 1)
            yield k.store(g.x, 0)
        yield k.rcu_read_unlock()

    def writer(k: Kernel, g: Shared) -> Steps:
        yield k.store(g.y, 1)  # unpublish: new readers keep off g.x
        yield k.synchronize_rcu()
        v = yield k.load(g.x)
        yield k.store(g.seen, v)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("reader", reader, g)
        m.spawn("writer", writer, g)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {0}


def test_synchronize_rcu_does_not_wait_for_later_readers(outcomes: Outcomes) -> None:
    def reader(k: Kernel, g: Shared) -> Steps:
        yield k.rcu_read_lock()
        yield k.store(g.x, 1)
        yield k.store(g.x, 0)
        yield k.rcu_read_unlock()

    def writer(k: Kernel, g: Shared) -> Steps:
        yield k.synchronize_rcu()
        v = yield k.load(g.x)
        yield k.store(g.seen, v)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("reader", reader, g)
        m.spawn("writer", writer, g)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {0, 1}


# ----------------------------------------------------- threads and choices


def test_spawn_and_join_return_the_result(outcomes: Outcomes) -> None:
    def child(k: Kernel, g: Shared) -> Steps:
        yield k.store(g.x, 1)
        return "child-result"

    def parent(k: Kernel, g: Shared) -> Steps:
        t = yield k.spawn("child", child, g)
        got = yield k.join(t)
        v = yield k.load(g.x)
        yield k.store(g.seen, (got, v))

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("parent", parent, g)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == {("child-result", 1)}


def test_choose_explores_every_option(run: Run, outcomes: Outcomes) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        a = yield k.choose("x", "y", "z", label="which")
        b = yield k.choose(False, True)
        yield k.store(g.seen, (a, b))

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, g)
        return g

    assert outcomes(setup, lambda m, g: g.seen.value) == set(
        itertools.product("xyz", (False, True))
    )
    assert run(setup).stats.executions == 6


def test_choose_needs_an_option(run: Run) -> None:
    def body(k: Kernel) -> Steps:
        yield k.choose()

    from ctxcheck import ModelError

    with pytest.raises(ModelError, match="choose needs at least one option"):
        run(lambda m: m.spawn("T", body))


def test_choice_shows_in_the_counterexample(run: Run) -> None:
    def body(k: Kernel) -> Steps:
        fail = yield k.choose(False, True, label="fail")
        k.BUG_ON(fail, "took the failing branch")
        yield k.choose(1)

    v = only_violation(run(lambda m: m.spawn("T", body)), "bug_on")
    assert v.schedule == [(0, 1)]
    assert v.events[0].text == "choose(fail) = true"


# ------------------------------------------------------------- assertions


def test_bug_on_and_warn_on(run: Run) -> None:
    def body(k: Kernel, g: Shared, which: str) -> Steps:
        v = yield k.load(g.x)
        assert k.WARN_ON(v == 5) is False
        k.BUG_ON(v == 5)
        if which == "bug":
            k.BUG_ON(v == 0, "counter is zero")
        else:
            k.WARN_ON(v == 0, "counter is zero")
        yield k.store(g.x, 1)

    for which, prop in (("bug", "bug_on"), ("warn", "warn_on")):

        def setup(m: Machine, which: str = which) -> Shared:
            g = m.new(Shared)
            m.spawn("T", body, g, which)
            return g

        v = only_violation(run(setup), prop)
        assert v.message == "counter is zero"
        assert v.steps == 1


def test_bug_on_default_message(run: Run) -> None:
    def body(k: Kernel) -> Steps:
        yield k.choose(0)
        k.BUG_ON(True)

    v = only_violation(run(lambda m: m.spawn("T", body)), "bug_on")
    assert v.message == "BUG_ON"


# --------------------------------------------------- termination, determinism


def test_spin_loop_is_reported_as_unbounded(run: Run) -> None:
    def spin(k: Kernel, g: Shared) -> Steps:
        while (yield k.load(g.x)) == 0:
            pass

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("spinner", spin, g)
        return g

    v = only_violation(run(setup, max_steps=25), "termination")
    assert v.steps == 25
    assert "did not finish within 25 steps" in v.message
    assert all(e.thread == "spinner" for e in v.events)


def test_spin_loop_that_can_always_exit_still_hits_the_bound(run: Run) -> None:
    def spin(k: Kernel, g: Shared) -> Steps:
        while (yield k.load(g.x)) == 0:
            pass

    def release(k: Kernel, g: Shared) -> Steps:
        yield k.store(g.x, 1)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("spinner", spin, g)
        m.spawn("releaser", release, g)
        return g

    # The schedule that never runs the releaser is unbounded: found, not hung.
    v = only_violation(run(setup, max_steps=12), "termination")
    assert v.steps == 12


def test_nondeterministic_model_detected_with_the_step(
    explorer: str, inline_model: Callable[..., Any]
) -> None:
    import ctxcheck

    runs = itertools.count()

    def first(k: Kernel, cell: Cell) -> Steps:
        yield k.load(cell)
        yield k.load(cell)

    def writer(k: Kernel, cell: Cell) -> Steps:
        yield k.store(cell, 1)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        # Reads Python state outside the model: differs from one run to the next.
        m.spawn("T0", first, g.x if next(runs) % 2 == 0 else g.y)
        m.spawn("T1", writer, g.x)
        return g

    with pytest.raises(NondeterministicModel) as info:
        ctxcheck.check(inline_model(setup), explorer=explorer)
    message = str(info.value)
    assert "did not replay the same way at step 1: thread 0 now yields load" in message
    assert "deterministic function of its schedule" in message


# ------------------------------------- disabling steps (every explorer agrees)


def test_two_interrupts_around_an_irqs_off_section(outcomes: Outcomes) -> None:
    """A step that disables a thread must not hide the schedules where it ran first."""

    def body(k: Kernel, g: Shared) -> Steps:
        yield k.local_irq_disable()
        yield k.store(g.x, 1)
        yield k.local_irq_enable()
        yield k.store(g.x, 2)

    def handler(k: Kernel, g: Shared, out: Cell) -> Steps:
        yield k.irq_enter()
        v = yield k.load(g.x)
        yield k.store(out, v)
        yield k.irq_exit()

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        m.spawn("p", body, s.g, cpu=s.cpu, task=s.task)
        m.spawn("i1", handler, s.g, s.g.seen, cpu=s.cpu, irq=True)
        m.spawn("i2", handler, s.g, s.g.y, cpu=s.cpu, irq=True)
        return s

    seen = outcomes(setup, lambda m, s: (s.g.seen.value, s.g.y.value))
    assert seen == {(a, b) for a in (0, 1, 2) for b in (0, 1, 2)}


def test_task_switched_out_and_back(explorer: str, inline_model: Callable[..., Any]) -> None:
    import ctxcheck
    from ctxcheck import Property

    def body(k: Kernel, g: Shared) -> Steps:
        yield k.store(g.y, 1)
        yield k.store(g.x, 1)

    def schedule(k: Kernel, s: OneCpu, q: Task) -> Steps:
        yield k.context_switch(s.cpu, q)
        yield k.context_switch(s.cpu, s.task)

    def other(k: Kernel, g: Shared) -> Steps:
        v = yield k.load(g.x)
        yield k.store(g.seen, v)

    def setup(m: Machine) -> OneCpu:
        s = _one_cpu(m)
        q = m.new(Task, name="q", cpu=s.cpu)
        m.spawn("p", body, s.g, cpu=s.cpu, task=s.task)
        m.spawn("sched", schedule, s, q)
        m.spawn("q", other, s.g, cpu=s.cpu, task=q)
        return s

    seen: set[Any] = set()

    def record(m: Machine, s: OneCpu) -> None:
        seen.add(s.g.seen.value)

    # q is stranded when switched back out before it finished (a deadlock);
    # among the runs that finish, q read x both before and after p's store.
    result = ctxcheck.check(
        inline_model(setup, Property("observe", "", record, final=True)), explorer=explorer
    )
    assert result.violated() == ["deadlock"]
    assert "q is not running: cpu0.curr is p" in result.violations[0].message
    assert seen == {0, 1}
