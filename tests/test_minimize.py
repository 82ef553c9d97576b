"""Minimal counterexamples, checked against an exhaustive enumeration.

The oracle runs every schedule of a small model (every enabled thread and
every outcome at every step, no reduction) and keeps, per property, the
fewest steps and then the fewest preemptions of any violating execution.
:func:`ctxcheck.minimize.minimize` and ``ctxcheck.check`` must report exactly
that, whichever explorer found the first counterexample.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

import ctxcheck
from ctxcheck import (
    Cell,
    Config,
    Kernel,
    Machine,
    Model,
    Param,
    Property,
    Struct,
    TaskStruct,
    Variant,
    field,
    list_head,
    spinlock,
)
from ctxcheck.kernel import Steps
from ctxcheck.loader import load_model
from ctxcheck.minimize import REDUCED, SHORTEST, causal_slice, minimize, next_bound, regroup
from ctxcheck.runtime import Execution

Schedule = list[tuple[int, int]]


# -- the oracle -----------------------------------------------------------------
def exhaustive(
    model: Model, config: Config, bound: int | None = None
) -> dict[str, tuple[int, int]]:
    """Per property: (fewest steps, then fewest preemptions) over every execution.

    With ``bound``, over every execution of at most ``bound`` preemptions.
    """
    best: dict[str, tuple[int, int]] = {}

    def walk(prefix: Schedule, last: int | None, pre: int) -> None:
        ex = Execution(model, config)
        ex.replay(prefix)
        if ex.violation is not None:
            key = (len(prefix), pre)
            prop = ex.violation.prop
            best[prop] = min(best.get(prop, key), key)
            return
        enabled = ex.enabled()
        for tid in enabled:
            for branch in range(ex.branches(tid)):
                switch = last is not None and tid != last and last in enabled
                if bound is None or pre + switch <= bound:
                    walk([*prefix, (tid, branch)], tid, pre + switch)

    walk([], None, 0)
    return best


# -- small models ------------------------------------------------------------------
class box(Struct):
    a: Cell = field(0)
    b: Cell = field(0)
    flag: Cell = field(0)
    lock = spinlock()
    entry = list_head()
    head = list_head()


@dataclass
class State:
    box: box


def _noise(k: Kernel, data: box, n: int) -> Steps:
    """Steps on a field nobody checks: never part of a minimal counterexample."""
    for i in range(n):
        yield k.store(data.flag, i)


def _invariant_model() -> Model:
    """Two writers; the invariant a <= b + 1 breaks mid-execution."""

    def writer_a(k: Kernel, data: box) -> Steps:
        yield k.store(data.a, 1)
        yield k.store(data.a, 2)

    def writer_b(k: Kernel, data: box) -> Steps:
        yield k.store(data.b, 1)

    def setup(m: Machine, cfg: Config) -> State:
        data = m.new(box, name="box")
        m.spawn("noise", _noise, data, cfg["noise"])
        m.spawn("A", writer_a, data)
        m.spawn("B", writer_b, data)
        return State(data)

    def bounded(m: Machine, s: State) -> str | None:
        a, b = s.box.a.value, s.box.b.value
        return f"a={a} exceeds b+1={b + 1}" if a > b + 1 else None

    return Model(
        name="t.invariant",
        setup=setup,
        params=(Param("noise", 2, 0, 4),),
        properties=(Property("bounded", "a <= b + 1", bounded),),
    )


def _list_model() -> Model:
    """Two threads unlink the same entry after an unlocked emptiness check."""

    def remove(k: Kernel, data: box) -> Steps:
        linked = yield k.load(data.flag)
        if linked:
            yield k.list_del(data.entry)
            yield k.store(data.flag, 0)

    def setup(m: Machine, cfg: Config) -> State:
        data = m.new(box, name="box")
        data.flag.value = 1
        data.entry.next = data.entry.prev = data.head
        data.head.next = data.head.prev = data.entry
        m.spawn("noise", _noise_b, data)
        m.spawn("P", remove, data)
        m.spawn("Q", remove, data)
        return State(data)

    return Model(name="t.list", setup=setup)


def _noise_b(k: Kernel, data: box) -> Steps:
    yield k.store(data.b, 1)
    yield k.store(data.b, 2)


def _irq_model() -> Model:
    """A task updates a pair; the interrupt must never see it half done."""

    def task(k: Kernel, data: box, irqs_off: bool) -> Steps:
        yield k.store(data.b, 1)
        if irqs_off:
            yield k.local_irq_disable()
        yield k.store(data.a, 1)
        yield k.store(data.b, 0)
        if irqs_off:
            yield k.local_irq_enable()

    def handler(k: Kernel, data: box) -> Steps:
        yield k.irq_enter()
        a = yield k.load(data.a)
        b = yield k.load(data.b)
        if a and b:
            yield k.store(data.flag, 1)
        yield k.irq_exit()

    def setup(m: Machine, cfg: Config) -> State:
        data = m.new(box, name="box")
        (cpu,) = m.add_cpus(1)
        t = m.new(TaskStruct, name="task")
        cpu.curr.value = t
        m.spawn("task", task, data, cfg.variant == "irqsoff", cpu=cpu, task=t)
        m.spawn("irq", handler, data, cpu=cpu, irq=True)
        return State(data)

    def consistent(m: Machine, s: State) -> str | None:
        return "the handler saw a half-done update" if s.box.flag.value else None

    return Model(
        name="t.irq",
        setup=setup,
        variants=(Variant("irqson"), Variant("irqsoff")),
        properties=(Property("consistent", "", consistent),),
    )


def _alloc_model() -> Model:
    """An allocation that may fail, then a lost update on the success path."""

    def worker(k: Kernel, data: box) -> Steps:
        obj = yield k.kmalloc(box, may_fail=True)
        if obj is None:
            return
        v = yield k.load(data.a)
        yield k.store(data.a, v + 1)
        yield k.kfree(obj)

    def setup(m: Machine, cfg: Config) -> State:
        data = m.new(box, name="box")
        m.spawn("W0", worker, data)
        m.spawn("W1", worker, data)
        return State(data)

    def no_lost(m: Machine, s: State) -> str | None:
        done = sum(1 for o in m.heap)
        return f"a={s.box.a.value} after {done} allocations" if s.box.a.value < done else None

    return Model(
        name="t.alloc", setup=setup, properties=(Property("no_lost", "", no_lost, final=True),)
    )


def _locked_model() -> Model:
    """A counter bumped under a lock by one thread and without it by the other."""

    def locked(k: Kernel, data: box) -> Steps:
        yield k.spin_lock(data.lock)
        v = yield k.load(data.a)
        yield k.store(data.a, v + 1)
        yield k.spin_unlock(data.lock)

    def unlocked(k: Kernel, data: box) -> Steps:
        v = yield k.load(data.a)
        yield k.store(data.a, v + 1)

    def setup(m: Machine, cfg: Config) -> State:
        data = m.new(box, name="box")
        m.spawn("L", locked, data)
        m.spawn("U", unlocked, data)
        return State(data)

    def two(m: Machine, s: State) -> str | None:
        return None if s.box.a.value == 2 else f"a is {s.box.a.value}"

    return Model(name="t.locked", setup=setup, properties=(Property("two", "", two, final=True),))


CASES: list[tuple[str, Callable[[], Model], str | None, dict[str, int]]] = [
    ("invariant", _invariant_model, None, {"noise": 2}),
    ("list", _list_model, None, {}),
    ("irq", _irq_model, "irqson", {}),
    ("alloc", _alloc_model, None, {}),
    ("locked", _locked_model, None, {}),
]


@pytest.mark.parametrize("explorer", ["naive", "dpor"])
@pytest.mark.parametrize(("name", "make", "variant", "params"), CASES, ids=[c[0] for c in CASES])
def test_check_reports_the_exhaustive_minimum(
    name: str,
    make: Callable[[], Model],
    variant: str | None,
    params: dict[str, int],
    explorer: str,
) -> None:
    model = make()
    oracle = exhaustive(model, model.config(variant, params))
    result = ctxcheck.check(model, variant=variant, explorer=explorer, **params)
    assert oracle, "the model must have a violation for this test to mean anything"
    got = {v.property: (v.steps, v.preemptions) for v in result.violations}
    for prop, (steps, pre) in got.items():
        assert (steps, pre) == oracle[prop], prop
    assert all(v.to_json()["minimal"] == SHORTEST for v in result.violations)


def test_irq_off_variant_holds_and_lost_update_counts() -> None:
    model = _irq_model()
    assert not ctxcheck.check(model, variant="irqsoff", explorer="naive").violations
    result = ctxcheck.check("examples.lost_update", variant="racy", threads=3)
    (v,) = result.violations
    # every thread must finish for the final property: 3 x (load, store)
    assert (v.steps, v.preemptions) == (6, 1)


def test_noise_is_sliced_away() -> None:
    model = _invariant_model()
    config = model.config(None, {"noise": 4})
    # a bad first schedule: all the noise first, then A twice (a=2 > b+1=1)
    schedule = [(0, 0)] * 4 + [(1, 0), (1, 0)]
    ex = Execution(model, config)
    ex.replay(schedule)
    assert ex.violation is not None and ex.violation.prop == "bounded"
    small = minimize(model, config, None, schedule, "bounded")
    assert small.schedule == [(1, 0), (1, 0)]
    assert (small.steps, small.preemptions, small.minimal) == (2, 0, SHORTEST)


def test_slice_and_regroup_keep_dependencies() -> None:
    w0, w1, r = ((1, 1),), ((2, 1),), ((1, 0),)
    schedule = [(0, 0), (1, 0), (0, 0), (1, 0)]
    fps = [w0, w1, r, w1]
    # step 4 (thread 1, object 2) depends on step 2 only (same thread)
    assert causal_slice(schedule, fps) == [(1, 0), (1, 0)]
    # thread 0's read of object 1 must stay after its write: a valid regroup
    assert regroup(schedule, fps) == [(0, 0), (0, 0), (1, 0), (1, 0)]


def test_budget_runs_out_honestly() -> None:
    model = load_model("examples.lost_update")
    config = model.config("racy", {"threads": 3})
    schedule = [(0, 0), (1, 0), (2, 0), (1, 0), (2, 0), (0, 0)]
    small = minimize(model, config, None, schedule, "no_lost_update", budget=40)
    assert small.minimal == REDUCED
    assert small.note is not None and "budget" in small.note
    ex = Execution(model, config)
    ex.replay(small.schedule)
    assert ex.violation is not None and ex.violation.prop == "no_lost_update"
    assert small.steps <= len(schedule)


def test_a_deadline_that_has_passed_stops_the_minimisation_and_says_so() -> None:
    model = load_model("examples.lost_update")
    config = model.config("racy", {"threads": 3})
    schedule = [(0, 0), (1, 0), (2, 0), (1, 0), (2, 0), (0, 0)]
    full = minimize(model, config, None, schedule, "no_lost_update")
    assert full.minimal == SHORTEST and full.preemptions < 3  # this one has 3
    small = minimize(model, config, None, schedule, "no_lost_update", deadline=time.monotonic())
    assert small.minimal == REDUCED and small.schedule == schedule
    assert small.note is not None and "--timeout" in small.note
    assert small.work <= 2 * (len(schedule) + 1) < full.work  # the replay checking it, no search


def test_the_timeout_of_a_check_bounds_its_minimisation_too() -> None:
    # unbounded, minimising these two counterexamples takes several times this budget
    result = ctxcheck.check("perf_counter.ctx_lifetime", variant="pre", timeout=0.5)
    assert result.violations
    for v in result.violations:
        assert v.to_json()["minimal_proven"] is False
        assert v.minimal == REDUCED and v.minimal_note is not None
        assert "time budget of the check (--timeout)" in v.minimal_note
    text = ctxcheck.render.text.render_violation(result, result.violations[0])
    assert "minimal: not proven (the time budget of the check (--timeout) ran out" in text


def test_a_schedule_that_does_not_violate_is_returned_unchanged() -> None:
    model = load_model("examples.lost_update")
    config = model.config("racy", {"threads": 2})
    small = minimize(model, config, None, [(0, 0), (0, 0), (1, 0), (1, 0)], "no_lost_update")
    assert small.minimal == REDUCED
    assert small.note is not None and "did not replay" in small.note


# -- random programs -------------------------------------------------------------
def _random_model(seed: int, ops: int = 3, total: int = 9) -> Model:
    """2-3 threads of 1-``ops`` loads/stores/atomic_incs on two cells; a random invariant.

    At most ``total`` operations in all (programs are drawn again until so).
    """
    rng = random.Random(seed)
    threads: list[list[tuple[str, str, int]]] = []
    while not threads or sum(map(len, threads)) > total:
        threads = [
            [(rng.choice("lsi"), rng.choice("ab"), rng.randint(1, 2))
             for _ in range(rng.randint(1, ops))]
            for _ in range(rng.randint(2, 3))
        ]  # fmt: skip
    target = (rng.randint(0, 2), rng.randint(0, 2))
    final = rng.random() < 0.3

    def body(k: Kernel, data: box, prog: list[tuple[str, str, int]]) -> Steps:
        seen = 0
        for kind, cell_name, value in prog:
            cell = getattr(data, cell_name)
            if kind == "l":
                seen = yield k.load(cell)
            elif kind == "s":
                yield k.store(cell, (seen or 0) + value)
            else:
                yield k.atomic_inc(cell)

    def setup(m: Machine, cfg: Config) -> State:
        data = m.new(box, name="box")
        for i, prog in enumerate(threads):
            m.spawn(f"T{i}", body, data, prog)
        return State(data)

    def avoid(m: Machine, s: State) -> str | None:
        now = (s.box.a.value, s.box.b.value)
        return f"reached {now}" if now == target else None

    return Model(
        name=f"t.random{seed}", setup=setup, properties=(Property("avoid", "", avoid, final=final),)
    )


def test_random_programs_match_the_oracle() -> None:
    checked = 0
    for seed in range(60):
        model = _random_model(seed)
        config = model.config(None, {})
        oracle = exhaustive(model, config)
        if "avoid" not in oracle:
            continue
        v = ctxcheck.check(model, explorer="naive").assert_violates("avoid")
        assert (v.steps, v.preemptions) == oracle["avoid"], f"seed {seed}"
        # DPOR may miss a violation of an invariant over intermediate global
        # states (it explores one order per trace); when it finds one, the
        # minimized counterexample must be the same minimum.
        for w in ctxcheck.check(model, explorer="dpor").violations:
            assert (w.steps, w.preemptions) == oracle["avoid"], f"seed {seed} (dpor)"
        checked += 1
    assert checked >= 15


def test_minimal_counterexamples_keep_to_the_preemption_bound() -> None:
    """Under --max-preemptions K, the fewest steps among schedules of at most K preemptions."""
    checked = bound_mattered = 0
    for seed in [*range(20), 37, 39, 63, 65, 68]:  # the last five: the bound changes the minimum
        model = _random_model(seed)
        config = model.config(None, {})
        free = exhaustive(model, config)
        for bound in (0, 1, None):  # None: the whole search, as naive's
            oracle = free if bound is None else exhaustive(model, config, bound)
            result = ctxcheck.check(model, explorer="bounded", max_preemptions=bound)
            got = {v.property: (v.steps, v.preemptions) for v in result.violations}
            assert got == oracle, f"seed {seed}, bound {bound}"
            assert all(v.minimal == SHORTEST for v in result.violations)
            checked += bool(oracle)
            bound_mattered += "avoid" in oracle and oracle["avoid"] != free["avoid"]
    assert checked >= 10, checked
    assert bound_mattered >= 5, bound_mattered


# -- deepening by more than a step ------------------------------------------------
def _longest_violations(model: Model, config: Config) -> dict[str, Schedule]:
    """Per property, the longest violating schedule of every execution (no reduction)."""
    longest: dict[str, Schedule] = {}

    def walk(prefix: Schedule) -> None:
        ex = Execution(model, config)
        ex.replay(prefix)
        if ex.violation is not None:
            prop = ex.violation.prop
            if len(prefix) > len(longest.get(prop, [])):
                longest[prop] = list(prefix)
            return
        for tid in ex.enabled():
            for branch in range(ex.branches(tid)):
                walk([*prefix, (tid, branch)])

    walk([])
    return longest


@pytest.mark.parametrize("jump", ["grown", "to the cap"])
def test_minimising_the_longest_counterexample_finds_the_oracles_minimum(
    jump: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Branch and bound with growing bounds is exact from any starting schedule.

    The explorers hand the minimiser the first schedule they met; here it is
    given the longest violating one of all, so the deepening has the most
    room to jump past the minimum, and must still land on it. These small
    trees grow fast, so their bounds grow a step at a time; "to the cap"
    makes the first search's bound the schedule's length less one, the
    largest jump there is, so that the search must shrink to the minimum.
    """
    if jump == "to the cap":
        monkeypatch.setattr("ctxcheck.minimize.next_bound", lambda costs, cap: cap + 1)
        monkeypatch.setattr("ctxcheck.minimize.FIRST_BOUND", None)
    checked = longer = 0
    for seed in range(40):
        model = _random_model(seed, ops=5, total=10)
        config = model.config(None, {})
        oracle = exhaustive(model, config)
        for prop, schedule in _longest_violations(model, config).items():
            small = minimize(model, config, None, schedule, prop)
            assert small.minimal == SHORTEST, f"seed {seed}"
            assert (small.steps, small.preemptions) == oracle[prop], f"seed {seed}"
            checked += 1
            longer += len(schedule) > oracle[prop][0]
    assert checked >= 15 and longer >= 5, (checked, longer)


def test_bounds_jump_on_slow_growth_and_creep_on_fast_growth() -> None:
    # polynomial growth (ctx_lifetime's no_leak: x2 over 5 steps, 1,267 so far)
    assert next_bound([(14, 422), (19, 845)], 59) == 26
    # exponential growth (x3 a step): one step at a time
    assert next_bound([(9, 3**9), (10, 3**10)], 59) == 11
    # no growth yet: at most double
    assert next_bound([(1, 4), (2, 4)], 59) == 4
    # never past the cap, and past it once the cap is searched
    assert next_bound([(40, 100), (50, 101)], 59) == 59
    assert next_bound([(50, 100), (59, 200)], 59) == 60
    assert next_bound([(1, 4)], 59) == 2
