"""The runtime (one execution, step by step), properties, budgets and results.

These tests drive :class:`ctxcheck.runtime.Execution` by hand where the exact
schedule matters, and go through :func:`ctxcheck.check` for what an explorer
reports (verdict, bounds, statistics, counterexample).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

import ctxcheck
from ctxcheck import (
    Cell,
    Kernel,
    Machine,
    Model,
    ModelError,
    NondeterministicModel,
    Param,
    Property,
    Spinlock,
    Struct,
    TaskStruct,
    UsageError,
    Variant,
    field,
    spinlock,
)
from ctxcheck.kernel import Steps
from ctxcheck.runtime import Event, Execution

InlineModel = Callable[..., Model]
Run = Callable[..., Any]


class Shared(Struct):
    """Two words and a lock."""

    _label = "g"
    x: Cell = field(0)
    y: Cell = field(0)
    lock: Spinlock = spinlock()


def writer(k: Kernel, g: Shared) -> Steps:
    """Two plain stores."""
    yield k.store(g.x, 1)
    yield k.store(g.y, 1)


def reader(k: Kernel, g: Shared) -> Steps:
    """Two loads; returns what it saw."""
    a = yield k.load(g.y)
    b = yield k.load(g.x)
    return (a, b)


def two_threads(m: Machine) -> Shared:
    """writer (tid 0) and reader (tid 1) on one shared struct."""
    g = m.new(Shared, name="g")
    m.spawn("W", writer, g)
    m.spawn("R", reader, g)
    return g


def fresh(
    inline_model: InlineModel, setup: Callable[[Machine], Any], *properties: Property
) -> Execution:
    model = inline_model(setup, *properties)
    return Execution(model, model.config(None, {}))


# -------------------------------------------------------------- stepping


def test_execution_steps_and_schedule(inline_model: InlineModel) -> None:
    ex = fresh(inline_model, two_threads)
    assert ex.enabled() == [0, 1]
    assert not ex.finished
    ex.step(1)
    ex.step(0)
    ex.step(0)
    assert ex.enabled() == [1]
    ex.step(1)
    assert ex.finished
    assert ex.violation is None
    assert ex.schedule == [(1, 0), (0, 0), (0, 0), (1, 0)]
    assert ex.steps == 4
    assert ex.thread(1).result == (0, 1)
    assert ex.thread(0).finished and ex.thread(0).pending is None


def test_replay_runs_a_schedule(inline_model: InlineModel) -> None:
    ex = fresh(inline_model, two_threads)
    ex.replay([(0, 0), (0, 0), (1, 0), (1, 0)])
    assert ex.thread(1).result == (1, 1)
    assert ex.finished


def test_replay_of_an_impossible_step_names_it(inline_model: InlineModel) -> None:
    ex = fresh(inline_model, two_threads)
    with pytest.raises(NondeterministicModel, match=r"at step 3 the schedule moves thread 0"):
        ex.replay([(0, 0), (0, 0), (0, 0)])


def test_step_of_a_finished_thread_is_refused(inline_model: InlineModel) -> None:
    ex = fresh(inline_model, two_threads)
    ex.replay([(0, 0), (0, 0)])
    with pytest.raises(NondeterministicModel, match="thread 0 to move at step 2"):
        ex.step(0)


def test_footprints_name_what_each_step_touches(inline_model: InlineModel) -> None:
    from ctxcheck.primitives import base as ops

    ex = fresh(inline_model, two_threads)
    g: Shared = ex.state
    w, r = ex.footprint(0), ex.footprint(1)
    assert (g.x.oid, ops.WRITE) in w
    assert (g.y.oid, ops.READ) in r
    assert ex.signature(0) == ("store", g.x.oid)
    assert ex.signature(1) == ("load", g.y.oid)


def test_heap_field_access_reads_the_struct_lifetime(inline_model: InlineModel) -> None:
    from ctxcheck.primitives import base as ops

    def body(k: Kernel, g: Shared) -> Steps:
        yield k.load(g.x)

    def setup(m: Machine) -> Shared:
        g = m.alloc(Shared)
        m.spawn("T", body, g)
        return g

    ex = fresh(inline_model, setup)
    g: Shared = ex.state
    assert (g.oid, ops.READ) in ex.footprint(0)
    assert [o.name for o in ex.machine.live_heap()] == [g.name]


# --------------------------------------------------------------- events


def test_recorded_events(inline_model: InlineModel) -> None:
    model = inline_model(two_threads)
    ex = Execution(model, model.config(None, {}), record=True)
    ex.replay([(0, 0), (1, 0), (1, 0), (0, 0)])
    events = ex.events
    assert [e.step for e in events] == [1, 2, 3, 4]
    assert [e.thread for e in events] == ["W", "R", "R", "W"]
    assert [e.text for e in events] == [
        "store(g.x, 1)",
        "load(g.y) = 0",
        "load(g.x) = 1",
        "store(g.y, 1)",
    ]
    assert [e.value for e in events] == [None, "0", "1", None]
    assert [e.function for e in events] == ["writer", "reader", "reader", "writer"]
    assert all(e.file.endswith("test_runtime.py") for e in events)
    assert events[0].line == writer.__code__.co_firstlineno + 2
    assert events[0].obj == "g.x"
    assert ("g.x", "W") in events[0].footprint
    assert [e.preemption for e in events] == [False, True, False, False]
    assert ex.preemptions == 1


def test_event_json_round_trip(inline_model: InlineModel) -> None:
    model = inline_model(two_threads)
    ex = Execution(model, model.config(None, {}), record=True)
    ex.replay([(0, 0), (1, 0)])
    for e in ex.events:
        assert Event.from_json(e.to_json()) == e


def test_events_name_the_kernel_helper_and_the_stack(inline_model: InlineModel) -> None:
    def perf_lock(k: Kernel, g: Shared) -> Steps:
        flags = yield from k.spin_lock_irqsave(g.lock)
        yield from k.spin_unlock_irqrestore(g.lock, flags)

    def caller(k: Kernel, g: Shared) -> Steps:
        yield from perf_lock(k, g)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared, name="g")
        m.spawn("T", caller, g)
        return g

    model = inline_model(setup)
    ex = Execution(model, model.config(None, {}), record=True)
    ex.replay([(0, 0)] * 4)
    assert [e.function for e in ex.events] == ["perf_lock"] * 4
    assert ex.events[1].stack == ["caller", "perf_lock"]
    assert [e.irqs_off for e in ex.events] == [True, True, True, True]
    assert [e.op for e in ex.events] == [
        "local_irq_save", "spin_lock", "spin_unlock", "local_irq_restore",
    ]  # fmt: skip


# ------------------------------------------------------------ model errors


def test_exception_in_a_thread_names_file_line_and_schedule(inline_model: InlineModel) -> None:
    def broken(k: Kernel, g: Shared) -> Steps:
        v = yield k.load(g.y)
        yield k.store(g.x, 10 // v)  # ZeroDivisionError while y is 0

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("W", writer, g)
        m.spawn("B", broken, g)
        return g

    ex = fresh(inline_model, setup)
    ex.step(0)
    with pytest.raises(ModelError) as info:
        ex.step(1)
    text = str(info.value)
    line = broken.__code__.co_firstlineno + 2
    assert "ZeroDivisionError" in text
    assert f"test_runtime.py:{line} in broken (in thread B), after 2 steps" in text
    assert "schedule: [0,1]" in text
    assert "--debug" in text
    assert info.value.schedule == [(0, 0), (1, 0)]


def test_exception_in_setup(inline_model: InlineModel) -> None:
    def setup(m: Machine) -> None:
        raise KeyError("no such cpu")

    with pytest.raises(ModelError, match=r"(?s)raised KeyError: 'no such cpu'.*\(in setup\)"):
        fresh(inline_model, setup)


def test_exception_in_a_property(run: Run) -> None:
    def bad(m: Machine, g: Shared) -> str | None:
        return str(g.missing)  # type: ignore[attr-defined]

    with pytest.raises(ModelError, match=r"(?s)AttributeError.*\(in property bad_prop\)"):
        run(two_threads, Property("bad_prop", "", bad))


def test_exception_before_the_first_step(run: Run) -> None:
    def body(k: Kernel) -> Steps:
        raise RuntimeError("boom")
        yield k.choose(0)

    with pytest.raises(ModelError, match=r"(?s)RuntimeError: boom.*\(starting T\), after 0 steps"):
        run(lambda m: m.spawn("T", body))


def test_yielding_a_helper_without_yield_from(run: Run) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        yield k.spin_lock_irq(g.lock)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, g)
        return g

    with pytest.raises(ModelError, match="call it with `yield from`"):
        run(setup)


def test_yielding_a_plain_value(run: Run) -> None:
    def body(k: Kernel) -> Steps:
        yield 42

    with pytest.raises(ModelError, match=r"thread T yielded 42, not an operation"):
        run(lambda m: m.spawn("T", body))


# -------------------------------------------------------------- properties


def test_invariant_checked_after_every_write(run: Run) -> None:
    calls: list[int] = []

    def x_le_y(m: Machine, g: Shared) -> str | None:
        calls.append(1)
        return "x got ahead of y" if g.x.value > g.y.value else None

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("W", writer, g)
        return g

    v = run(setup, Property("x_le_y", "", x_le_y)).assert_violates("x_le_y")
    assert v.steps == 1
    assert v.message == "x got ahead of y"


def test_invariant_not_checked_after_reads(inline_model: InlineModel) -> None:
    calls: list[int] = []

    def count(m: Machine, g: Shared) -> str | None:
        calls.append(1)
        return None

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("R", reader, g)
        return g

    ex = fresh(inline_model, setup, Property("count", "", count))
    ex.replay([(0, 0), (0, 0)])
    assert ex.finished and ex.violation is None
    assert calls == []


def test_quiescent_invariant_waits_for_irqs_on_and_locks_dropped(run: Run) -> None:
    def body(k: Kernel, g: Shared) -> Steps:
        yield from k.spin_lock_irq(g.lock)
        yield k.store(g.x, 1)  # broken here, but inside the critical section
        yield k.store(g.x, 0)
        yield from k.spin_unlock_irq(g.lock)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared)
        m.spawn("T", body, g)
        return g

    def x_zero(m: Machine, g: Shared) -> str | None:
        return None if g.x.value == 0 else "x is set"

    assert run(setup, Property("x_zero", "", x_zero, quiescent=True)).verdict == "holds"
    assert run(setup, Property("x_zero", "", x_zero)).violated() == ["x_zero"]


def test_final_property_checked_once_at_the_end(run: Run) -> None:
    def both_set(m: Machine, g: Shared) -> str | None:
        return None if g.x.value == g.y.value == 1 else "not both set"

    assert run(two_threads, Property("both", "", both_set, final=True)).verdict == "holds"


def test_deadlock_through_joins_reports_the_whole_cycle(run: Run) -> None:
    def waiter(k: Kernel, g: Shared) -> Steps:
        t = yield k.spawn("child", child, g)
        yield k.join(t)

    def child(k: Kernel, g: Shared) -> Steps:
        yield k.spin_lock(g.lock)
        yield k.spin_unlock(g.lock)

    def holder(k: Kernel, g: Shared, w: Any) -> Steps:
        yield k.spin_lock(g.lock)
        yield k.join(w)
        yield k.spin_unlock(g.lock)

    def setup(m: Machine) -> Shared:
        g = m.new(Shared, name="g")
        w = m.spawn("waiter", waiter, g)
        m.spawn("holder", holder, g, w)
        return g

    v = run(setup).assert_violates("deadlock")
    assert "waiter waits for child to finish" in v.message
    assert "child waits for g.lock held by holder" in v.message
    assert "holder waits for waiter to finish" in v.message
    assert v.message.split("Cycle: ")[1] in {
        "waiter -> child -> holder -> waiter",
        "holder -> waiter -> child -> holder",
        "child -> holder -> waiter -> child",
    }


def test_deadlock_message_lists_every_blocked_thread(run: Run) -> None:
    class Task(TaskStruct):
        pass

    def task(k: Kernel, g: Shared) -> Steps:
        yield k.spin_lock(g.lock)
        yield k.store(g.x, 1)
        yield k.spin_unlock(g.lock)

    def handler(k: Kernel, g: Shared) -> Steps:
        yield k.irq_enter()
        yield k.spin_lock(g.lock)  # the interrupted task holds it: classic
        yield k.spin_unlock(g.lock)
        yield k.irq_exit()

    def setup(m: Machine) -> Shared:
        (cpu,) = m.add_cpus(1)
        p = m.new(Task, name="p", cpu=cpu)
        cpu.curr.value = p
        g = m.new(Shared, name="g")
        m.spawn("p", task, g, cpu=cpu, task=p)
        m.spawn("irq", handler, g, cpu=cpu, irq=True)
        return g

    v = run(setup).assert_violates("deadlock")
    assert "p is interrupted on cpu0 by irq" in v.message
    assert "irq waits for g.lock held by p" in v.message
    assert v.message.split("Cycle: ")[1] in {"p -> irq -> p", "irq -> p -> irq"}


# ------------------------------------------------------------------ budgets


def _many(m: Machine) -> Shared:
    g = m.new(Shared)
    for i in range(3):
        m.spawn(f"T{i}", writer, g)
    return g


def test_max_executions_makes_the_result_inconclusive(run: Run) -> None:
    result = run(_many, max_executions=2)
    assert result.verdict == "inconclusive"
    assert result.exit_status == 3
    assert not result.exhaustive
    assert result.stopped == "max_executions=2"
    assert result.stats.executions + result.stats.blocked == 2
    assert "inconclusive (search stopped: max_executions=2)" in result.summary()


def test_exhaustive_search_holds_with_its_bounds(run: Run) -> None:
    result = run(_many)
    assert result.verdict == "holds" and result.exhaustive and result.exit_status == 0
    assert "holds for every schedule (variant default, max 200 steps per execution" in (
        result.summary()
    )


def test_stop_on_first_violation(run: Run) -> None:
    def never(m: Machine, g: Shared) -> str | None:
        return "every execution fails"

    result = run(_many, Property("never", "", never, final=True), stop_on_first=True)
    assert result.violated() == ["never"]
    assert result.stats.executions == 1
    assert result.stopped == "first violation"
    assert not result.exhaustive


def test_keyboard_interrupt_keeps_partial_statistics(run: Run) -> None:
    checks = itertools.count()

    def interrupt_later(m: Machine, g: Shared) -> str | None:
        if next(checks) == 5:
            raise KeyboardInterrupt
        return None

    result = run(_many, Property("ctrl_c", "", interrupt_later, final=True))
    assert result.stopped == "interrupted"
    assert result.verdict == "inconclusive"
    assert result.stats.executions == 5
    assert result.stats.steps == 5 * 6


def test_violation_counterexample_is_the_shortest_found(run: Run) -> None:
    def no_y(m: Machine, g: Shared) -> str | None:
        return "y set" if g.y.value else None

    v = run(_many, Property("no_y", "", no_y)).assert_violates("no_y")
    assert v.steps == 2
    assert v.preemptions == 0
    assert v.schedule == [(0, 0), (0, 0)]


# ---------------------------------------------------- model declaration


def _declared() -> Model:
    def setup(m: Machine, cfg: Any) -> Shared:
        g = m.new(Shared)
        for i in range(cfg["writers"]):
            m.spawn(f"T{i}", writer if cfg.variant == "post" else reader, g)
        return g

    return Model(
        name="declared",
        setup=setup,
        doc="A declared model.\n\nMore text.",
        params=(Param("writers", 2, 1, 3, "how many"),),
        variants=(Variant("pre", "before"), Variant("post", "after")),
    )


def test_default_variant_is_post_and_params_default() -> None:
    cfg = _declared().config(None, {})
    assert cfg.variant == "post"
    assert cfg["writers"] == 2
    assert _declared().config("pre", {"writers": "3"})["writers"] == 3


@pytest.mark.parametrize(
    ("variant", "params", "message"),
    [
        ("mid", {}, "model declared has no variant 'mid'; its variants are: pre, post"),
        (None, {"readers": 1}, "model declared has no parameter 'readers'; its parameters are: "
                               "writers"),
        (None, {"writers": 9}, "parameter writers=9 is out of range: allowed 1..3"),
        (None, {"writers": 0}, "parameter writers=0 is out of range: allowed 1..3"),
        (None, {"writers": "two"}, "parameter writers='two': not an integer"),
    ],
)  # fmt: skip
def test_bad_configuration_is_a_usage_error(
    variant: str | None, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as info:
        ctxcheck.check(_declared(), variant=variant, **params)
    assert str(info.value) == message


def test_unknown_explorer_lists_the_valid_ones() -> None:
    from ctxcheck.explorers import EXPLORERS

    with pytest.raises(UsageError) as info:
        ctxcheck.check(_declared(), explorer="magic")
    assert str(info.value).startswith("unknown explorer 'magic'; choose one of: naive, dpor")
    for name in EXPLORERS:
        assert name in str(info.value)


def test_describe_lists_everything() -> None:
    d = _declared().describe()
    assert d["name"] == "declared"
    assert d["doc"] == "A declared model."
    assert d["default_variant"] == "post"
    assert d["variants"] == [{"name": "pre", "doc": "before"}, {"name": "post", "doc": "after"}]
    assert d["params"] == [{"name": "writers", "default": 2, "min": 1, "max": 3, "doc": "how many"}]
    names = [p["name"] for p in d["properties"]]
    assert names[:4] == ["memory_safety", "list_integrity", "locking", "deadlock"]
    assert "termination" in names and "bug_on" in names


# ------------------------------------------------------------ the example


@pytest.mark.parametrize(
    ("variant", "verdict"), [("racy", "violated"), ("atomic", "holds"), ("locked", "holds")]
)
def test_lost_update_example(explorer: str, variant: str, verdict: str) -> None:
    result = ctxcheck.check("examples.lost_update", variant=variant, explorer=explorer)
    assert result.verdict == verdict
    if verdict == "violated":
        v = result.assert_violates("no_lost_update")
        assert v.message == "counter is 1 after 2 increments"
        assert v.steps == 4
    else:
        result.assert_holds()
        assert result.exhaustive


def test_result_assertions_fail_with_the_summary() -> None:
    from ctxcheck import CheckFailed

    racy = ctxcheck.check("examples.lost_update", variant="racy")
    with pytest.raises(CheckFailed, match="VIOLATED: no_lost_update"):
        racy.assert_holds()
    fixed = ctxcheck.check("examples.lost_update", variant="atomic")
    with pytest.raises(CheckFailed, match="expected a violation of 'no_lost_update', found none"):
        fixed.assert_violates("no_lost_update")
    cut = ctxcheck.check("examples.lost_update", variant="locked", threads=3, max_executions=1)
    with pytest.raises(CheckFailed, match="cut before it was exhaustive"):
        cut.assert_holds()
    cut.assert_holds(allow_inconclusive=True)
