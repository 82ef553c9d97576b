"""Every explorer against the same litmus set, plus what each one promises.

Like loom's ``tests/litmus.rs``: one table of small models with known
verdicts, run by every explorer. Then the promises that set the explorers
apart: ``bfs`` gives the shortest counterexample and terminates on retry
loops; ``bounded`` goes by preemptions and says when it was cut; ``random``
and ``pct`` are reproducible and never claim "holds".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import ctxcheck
from ctxcheck import Cell, Config, Kernel, Machine, Model, Property, Struct, Variant, field
from ctxcheck.cli import main as cli_main
from ctxcheck.explorers import EXPLORERS, Outcome, get_explorer
from ctxcheck.fingerprint import fingerprint
from ctxcheck.kernel import Steps
from ctxcheck.loader import load_model
from ctxcheck.minimize import SHORTEST, minimize
from ctxcheck.options import Bounds
from ctxcheck.runtime import Execution

EXHAUSTIVE = ["naive", "dpor", "odpor", "bfs", "bounded", "stateful"]
SAMPLING = ["random", "pct"]
ALL = EXHAUSTIVE + SAMPLING
LOST_UPDATE = "examples.lost_update"


def test_every_explorer_of_the_cli_contract_is_registered() -> None:
    assert sorted(EXPLORERS) == sorted(ALL)
    for name in ALL:
        assert get_explorer(name).name == name


# ------------------------------------------------------------------ litmus


class Pair(Struct):
    """Two words, for the litmus models."""

    x: Cell = field(0)
    y: Cell = field(0)


@dataclass
class Litmus:
    data: Pair
    seen: list[Any]


def _store_buffer_body(k: Kernel, d: Pair, mine: Cell, other: Cell, seen: list[Any]) -> Steps:
    yield k.store(mine, 1)
    seen.append((yield k.load(other)))


def _store_buffer(m: Machine, cfg: Config) -> Litmus:
    d = m.new(Pair, name="d")
    state = Litmus(d, [])
    m.spawn("T0", _store_buffer_body, d, d.x, d.y, state.seen)
    m.spawn("T1", _store_buffer_body, d, d.y, d.x, state.seen)
    return state


def _not_both_zero(m: Machine, s: Litmus) -> str | None:
    """Sequential consistency: the two loads cannot both read 0."""
    return "both loads read 0" if s.seen == [0, 0] else None


def _not_both_one(m: Machine, s: Litmus) -> str | None:
    """Reachable under SC: both loads read 1 (a deliberately false claim)."""
    return "both loads read 1" if s.seen == [1, 1] else None


STORE_BUFFER = Model(
    name="litmus.store_buffer",
    setup=_store_buffer,
    variants=(Variant("default"),),
    properties=(
        Property("sc", "no 0/0 outcome", _not_both_zero, final=True),
        Property("never_1_1", "false claim", _not_both_one, final=True),
    ),
)

#: (model, variant, params, expected violated properties)
LITMUS: list[tuple[str | Model, str | None, dict[str, int], set[str]]] = [
    (LOST_UPDATE, "racy", {"threads": 2}, {"no_lost_update"}),
    (LOST_UPDATE, "racy", {"threads": 3}, {"no_lost_update"}),
    (LOST_UPDATE, "atomic", {"threads": 3}, set()),
    (LOST_UPDATE, "locked", {"threads": 3}, set()),
    (STORE_BUFFER, None, {}, {"never_1_1"}),
]


@pytest.mark.parametrize("explorer", ALL)
@pytest.mark.parametrize(("target", "variant", "params", "expected"), LITMUS)
def test_litmus(
    explorer: str,
    target: str | Model,
    variant: str | None,
    params: dict[str, int],
    expected: set[str],
) -> None:
    result = ctxcheck.check(target, variant=variant, explorer=explorer, seed=7, **params)
    assert set(result.violated()) == expected
    if explorer in SAMPLING:
        assert not result.exhaustive
        assert result.verdict == ("violated" if expected else "inconclusive")
        assert result.stats.executions == 1000
    else:
        assert result.exhaustive
        assert result.verdict == ("violated" if expected else "holds")
    for v in result.violations:
        replay = Execution(load_model(target), _config(target, variant, params))
        replay.replay(v.schedule)
        assert replay.violation is not None and replay.violation.prop == v.property


def _config(target: str | Model, variant: str | None, params: dict[str, int]) -> Config:
    return load_model(target).config(variant, params)


def explore(
    target: str | Model,
    explorer: str,
    variant: str | None = None,
    budget: Bounds | None = None,
    stop_on_first: bool = False,
    knobs: dict[str, Any] | None = None,
    **params: int,
) -> Outcome:
    """The explorer's own outcome: its schedules before any minimisation."""
    model = load_model(target)
    budget = budget or Bounds(max_steps=model.max_steps)
    cls = get_explorer(explorer)
    config = model.config(variant, params)
    return cls(model, config, budget, stop_on_first=stop_on_first, **(knobs or {})).run()


@pytest.mark.parametrize("explorer", ALL)
def test_cli_json_statistics_are_uniform(explorer: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", LOST_UPDATE, "--variant", "atomic", "--explorer", explorer, "--json"]
    status = cli_main([*argv, "--seed", "3"])
    out = json.loads(capsys.readouterr().out)
    # the contract's keys, and the one it added (DESIGN.md: stats may gain keys)
    contract = {"executions", "blocked", "states", "steps", "seconds"}
    assert set(out["stats"]) == contract | {"estimate_remaining", "reduction"}
    assert out["explorer"] == explorer
    assert out["stats"]["executions"] > 0
    assert (out["stats"]["states"] is not None) == (explorer in ("bfs", "stateful"))
    assert status == (3 if explorer in SAMPLING else 0)


# ---------------------------------------------------------------------- bfs


def test_bfs_reports_the_shortest_counterexample() -> None:
    for threads in (2, 3):
        # naive keeps the shortest of every violating execution it runs
        naive = explore(LOST_UPDATE, "naive", "racy", threads=threads).discoveries
        bfs = explore(LOST_UPDATE, "bfs", "racy", threads=threads).discoveries
        shortest = len(naive["no_lost_update"].schedule)
        assert len(bfs["no_lost_update"].schedule) == shortest == 2 * threads


class Flags(Struct):
    a: Cell = field(0)
    b: Cell = field(0)
    c: Cell = field(0)


def _long_way(k: Kernel, f: Flags) -> Steps:
    """Three stores; the invariant breaks after the last, or early through T1."""
    yield k.store(f.a, 1)
    yield k.store(f.b, 1)
    yield k.store(f.c, 1)


def _short_way(k: Kernel, f: Flags) -> Steps:
    yield k.store(f.c, 2)


def _flags_setup(m: Machine, cfg: Config) -> Flags:
    f = m.new(Flags, name="f")
    m.spawn("T0", _long_way, f)
    m.spawn("T1", _short_way, f)
    return f


def _c_never_set(m: Machine, f: Flags) -> str | None:
    return f"c = {f.c.value}" if f.c.value else None


FLAGS = Model(
    name="tests.flags",
    setup=_flags_setup,
    properties=(Property("c_zero", "c stays 0", _c_never_set),),
)


def test_bfs_finds_one_step_counterexample_where_depth_first_goes_long() -> None:
    dfs = explore(FLAGS, "dpor", stop_on_first=True).discoveries["c_zero"]
    bfs = explore(FLAGS, "bfs").discoveries["c_zero"]
    assert len(dfs.schedule) == 3
    assert bfs.schedule == [(1, 0)]


class SpinState(Struct):
    lock: Cell = field(0)
    owner: Cell = field(None)


def _spin_worker(k: Kernel, s: SpinState, me: str) -> Steps:
    """A try-lock retry loop: spins for as long as the other thread holds it."""
    while (yield k.cmpxchg(s.lock, 0, 1)) != 0:
        pass
    yield k.store(s.owner, me)
    owner = yield k.load(s.owner)
    k.BUG_ON(owner != me, f"{me} lost the lock to {owner}")
    yield k.store(s.lock, 0)


def _spin_setup(m: Machine, cfg: Config) -> SpinState:
    s = m.new(SpinState, name="s")
    for i in range(cfg["threads"]):
        m.spawn(f"T{i}", _spin_worker, s, f"T{i}")
    return s


SPIN = Model(
    name="tests.spin",
    setup=_spin_setup,
    params=(ctxcheck.Param("threads", 2, 1, 4),),
)


#: buggy perf_counter variants at bounds where bfs covers every state in seconds
BFS_EXHAUSTIVE = [
    ("perf_counter.enable_task_ctx", "pre", {}),
    ("perf_counter.enable_task_ctx", "mutant-no-enable-task-ctx", {}),
    ("perf_counter.install_task_ctx", "mutant-no-install-task-ctx", {"ticks": 0}),
    ("perf_counter.fork_inherit", "post", {}),
    (
        "perf_counter.ctx_create",
        "mutant-no-install-task-ctx",
        {"openers": 1, "cpus": 1, "switches": 0},
    ),
]
#: and where it takes too long to finish, but not to reach its first violation
BFS_FIRST = [
    ("perf_counter.double_del", "pre", {"cpus": 1}),
    ("perf_counter.ctx_create", "mutant-no-cmpxchg", {"openers": 2, "cpus": 1, "switches": 0}),
    ("perf_counter.ctx_lifetime", "post", {"cpus": 1}),
]


def _ids(cases: list[tuple[str, str, dict[str, int]]]) -> list[str]:
    return [f"{n.split('.')[1]}[{v}]" for n, v, _ in cases]


def _bfs_is_shortest(name: str, variant: str, params: dict[str, int], out: Outcome) -> int:
    """Each bfs counterexample against the minimiser; how many it proved shortest.

    The minimiser's iterative deepening (every schedule of d steps, d = 1,
    2, ...) is an independent search for a shorter one. When it completes,
    its length is the shortest there is and bfs must match it; when its
    budget runs out first, it must at least find nothing shorter.
    """
    model = load_model(name)
    cfg = model.config(variant, params)
    proven = 0
    for prop, found in out.discoveries.items():
        best = minimize(model, cfg, model.max_steps, found.schedule, prop, budget=60_000)
        assert best.steps == len(found.schedule), f"{prop}: {best.note}"
        proven += best.minimal == SHORTEST
    return proven


@pytest.mark.parametrize(("name", "variant", "params"), BFS_EXHAUSTIVE, ids=_ids(BFS_EXHAUSTIVE))
def test_bfs_reports_the_shortest_counterexample_on_perf_counter(
    name: str, variant: str, params: dict[str, int]
) -> None:
    out = explore(name, "bfs", variant, **params)
    assert out.exhaustive and out.stats.states is not None
    (expected,) = [e for e in load_model(name).expectations if e.variant == variant]
    assert set(expected.properties) <= out.discoveries.keys()
    assert _bfs_is_shortest(name, variant, params, out) >= len(expected.properties)


@pytest.mark.parametrize(("name", "variant", "params"), BFS_FIRST, ids=_ids(BFS_FIRST))
def test_bfs_first_violation_is_a_shortest_one_on_perf_counter(
    name: str, variant: str, params: dict[str, int]
) -> None:
    """Breadth first, the first violation met is at the least depth of any.

    On ``double_del pre`` the minimiser cannot prove 40 steps the least
    within the budget; there, bfs must also be no longer than the
    counterexample dpor finds, minimised.
    """
    out = explore(name, "bfs", variant, stop_on_first=True, **params)
    assert out.discoveries and not out.exhaustive
    proven = _bfs_is_shortest(name, variant, params, out)
    if proven < len(out.discoveries):
        result = ctxcheck.check(name, variant=variant, stop_on_first=True, **params)
        for v in result.violations:
            if v.property in out.discoveries:
                assert len(out.discoveries[v.property].schedule) <= v.steps


def test_bfs_terminates_on_an_unbounded_retry_loop() -> None:
    stateless = ctxcheck.check(SPIN, explorer="naive", max_steps=30, threads=2)
    assert stateless.violated() == ["termination"]
    result = ctxcheck.check(SPIN, explorer="bfs", threads=3)
    assert result.verdict == "holds" and result.exhaustive
    assert result.stats.states is not None and 0 < result.stats.states < 1000


def test_fingerprints_merge_commuting_steps_and_separate_different_states() -> None:
    model = load_model(LOST_UPDATE)
    cfg = model.config("atomic", {"threads": 2})

    def reach(schedule: list[tuple[int, int]]) -> bytes:
        ex = Execution(model, cfg)
        ex.replay(schedule)
        return fingerprint(ex)

    assert reach([(0, 0), (1, 0)]) == reach([(1, 0), (0, 0)])
    assert reach([(0, 0)]) != reach([(1, 0)])
    assert reach([]) != reach([(0, 0)])


def test_fingerprints_of_a_perf_counter_state_do_not_depend_on_the_replay() -> None:
    """The state holds the machine (``PerfSystem.machine``) and ``for`` loops over ranges.

    The machine's bookkeeping (a dict keyed by ``id()``, the step count) and
    a range on a frame's value stack once made every replay of a state a new
    state: bfs never merged anything on the perf_counter models.
    """
    model = load_model("perf_counter.enable_task_ctx")
    cfg = model.config("pre", {})
    first = Execution(model, cfg)
    while not first.finished and len(first.schedule) < 30:
        first.step(first.enabled()[-1])
    again = Execution(model, cfg)
    again.replay(list(first.schedule))
    assert fingerprint(first) == fingerprint(again)


# ------------------------------------------------------------------ bounded


def test_bounded_without_a_bound_runs_every_schedule_once() -> None:
    for variant in ("racy", "locked"):
        naive = ctxcheck.check(LOST_UPDATE, variant=variant, explorer="naive", threads=3)
        bounded = ctxcheck.check(LOST_UPDATE, variant=variant, explorer="bounded", threads=3)
        assert bounded.exhaustive
        assert bounded.stats.executions == naive.stats.executions
        assert bounded.stats.steps == naive.stats.steps


def test_bounded_is_incomplete_below_the_bug_and_finds_it_at_its_bound() -> None:
    cut = ctxcheck.check(LOST_UPDATE, variant="racy", explorer="bounded", max_preemptions=0)
    assert cut.verdict == "inconclusive" and cut.exit_status == 3
    assert cut.stopped == "max_preemptions=0"
    assert cut.to_json()["bounds"]["max_preemptions"] == 0
    found = ctxcheck.check(LOST_UPDATE, variant="racy", explorer="bounded", max_preemptions=1)
    assert found.violations[0].preemptions == 1


@pytest.mark.parametrize("explorer", [n for n, c in EXPLORERS.items() if not c.preemption_bound])
def test_a_preemption_bound_is_refused_by_explorers_that_do_not_keep_it(explorer: str) -> None:
    # dpor once took max_preemptions=0 and reported a counterexample of 1 preemption
    with pytest.raises(ctxcheck.UsageError, match=f"explorer {explorer} does not honour "
                       r"max_preemptions=0 .*bound preemptions: bounded;"):  # fmt: skip
        ctxcheck.check(LOST_UPDATE, variant="racy", explorer=explorer, max_preemptions=0)
    assert ctxcheck.check(LOST_UPDATE, variant="racy", explorer=explorer).violations


def test_bounded_holds_when_the_bound_covers_every_schedule() -> None:
    result = ctxcheck.check(LOST_UPDATE, variant="atomic", explorer="bounded", max_preemptions=5)
    assert result.verdict == "holds" and result.exhaustive


def test_bounded_reports_the_fewest_preemptions_before_fewer_steps() -> None:
    result = ctxcheck.check(FLAGS, explorer="bounded")
    # T1 first is no preemption (nothing ran yet): one step, zero preemptions
    assert result.violations[0].preemptions == 0


def _store_b(k: Kernel, f: Flags) -> Steps:
    yield k.store(f.b, 1)
    yield k.store(f.a, 1)


def _inc_b(k: Kernel, f: Flags) -> Steps:
    yield k.atomic_inc(f.b)


def _b_2_a_0(m: Machine, f: Flags) -> str | None:
    return "b = 2 with a = 0" if (f.a.value, f.b.value) == (0, 2) else None


def _preempted_setup(m: Machine, cfg: Config) -> Flags:
    f = m.new(Flags, name="f")
    m.spawn("T0", _store_b, f)
    m.spawn("T1", _inc_b, f)
    return f


#: violated in one state only: T0's first store, then T1 preempting T0
PREEMPTED = Model(
    name="tests.preempted",
    setup=_preempted_setup,
    properties=(Property("not_b2_a0", "", _b_2_a_0),),
)


@pytest.mark.parametrize("bound", [1, 2, None])
def test_bounded_judges_the_state_its_filed_preemption_reaches(bound: int | None) -> None:
    # the filed prefix [T0, T1] was replayed as "already judged" and the violation missed
    assert ctxcheck.check(PREEMPTED, explorer="naive").violated() == ["not_b2_a0"]
    result = ctxcheck.check(PREEMPTED, explorer="bounded", max_preemptions=bound)
    (v,) = result.violations
    assert (v.property, v.schedule, v.preemptions) == ("not_b2_a0", [(0, 0), (1, 0)], 1)


# ------------------------------------------------------------ random, pct


@pytest.mark.parametrize("explorer", SAMPLING)
def test_sampling_is_reproducible_with_a_seed(explorer: str) -> None:
    def run(seed: int) -> tuple[list[tuple[int, int]], int]:
        budget = Bounds(max_steps=100, max_executions=50)
        out = explore(LOST_UPDATE, explorer, "racy", budget, knobs={"seed": seed}, threads=4)
        return out.discoveries["no_lost_update"].schedule, out.stats.steps

    assert run(11) == run(11)
    assert len({tuple(run(s)[0]) for s in range(6)}) > 1


@pytest.mark.parametrize("explorer", SAMPLING)
def test_sampling_counts_schedules_and_never_claims_holds(explorer: str) -> None:
    result = ctxcheck.check(
        LOST_UPDATE, variant="atomic", explorer=explorer, max_executions=25, threads=3
    )
    assert result.stats.executions == 25
    assert result.verdict == "inconclusive" and result.exit_status == 3


def _pct_run(depth: int, seed: int) -> Callable[[], Any]:
    model = load_model(LOST_UPDATE)
    cfg = model.config("racy", {"threads": 3})
    budget = Bounds(max_steps=100, max_executions=200)
    return get_explorer("pct")(model, cfg, budget, seed=seed, depth=depth).run


def test_pct_depth_one_never_preempts() -> None:
    # d = 1: no change point; every run is serial and no update is lost
    outcome = _pct_run(1, 5)()
    assert outcome.discoveries == {}
    assert _pct_run(2, 5)().discoveries.keys() == {"no_lost_update"}
