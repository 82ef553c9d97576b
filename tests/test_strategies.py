"""``ctxcheck.strategies.schedules``: hypothesis draws, shrinks and replays schedules."""

from __future__ import annotations

import hypothesis.extra.pytestplugin  # noqa: F401 - preloaded for pytester, as in test_plugin
import pytest
from hypothesis import HealthCheck, find, given, settings

import ctxcheck
from ctxcheck import Cell, Config, Machine, Model, Property, Struct, Variant, field
from ctxcheck.errors import NondeterministicModel, UsageError
from ctxcheck.kernel import Kernel, Steps
from ctxcheck.result import CheckFailed
from ctxcheck.strategies import ScheduleRun, replay, schedules

pytest_plugins = ["pytester"]

FAST = settings(database=None, derandomize=True, max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def _shrunk_failure(target: str, variant: str, **params: int) -> tuple[ScheduleRun, str]:
    """Run a hypothesis test that asserts the model holds; return its final example."""
    seen: list[ScheduleRun] = []

    @FAST
    @given(schedules(target, variant=variant, **params))
    def test(run: ScheduleRun) -> None:
        seen.append(run)
        run.assert_holds()

    with pytest.raises(CheckFailed) as info:
        test()
    # hypothesis re-runs the shrunk example last, to raise its error
    return seen[-1], str(info.value)


def _assert_shrunk(target: str, variant: str, prop: str, **params: int) -> ScheduleRun:
    minimal = ctxcheck.check(target, variant=variant, **params).assert_violates(prop)
    run, message = _shrunk_failure(target, variant, **params)
    assert run.violation is not None and run.violation.property == prop
    assert len(run.schedule) <= minimal.steps + 2
    assert f"violates {prop} in {len(run.schedule)} steps" in message
    assert run.replay_call() in message
    again = eval(run.replay_call(), {"ctxcheck": ctxcheck})  # the printed call replays it
    assert again.schedule == run.schedule and again.violation.property == prop
    return run


def test_lost_update_is_found_and_shrunk() -> None:
    run = _assert_shrunk("examples.lost_update", "racy", "no_lost_update", threads=3)
    # choice 0 is "the same thread goes on": shrinking removes needless switches
    assert run.violation is not None and run.violation.preemptions == 1


@FAST
@given(schedules("examples.lost_update", variant="atomic", threads=3))
def test_fixed_variant_holds_for_every_drawn_schedule(run: ScheduleRun) -> None:
    run.assert_holds()
    assert run.verdict == "holds" and run.state.data.counter.value == 3
    assert sorted(tid for tid, _ in run.schedule) == [0, 1, 2]


def test_every_outcome_is_reachable() -> None:
    lost = find(schedules("examples.lost_update", variant="racy"),
                lambda r: r.state.data.counter.value == 1, settings=FAST)  # fmt: skip
    assert lost.verdict == "violated"
    interleaved = find(schedules("examples.lost_update", variant="atomic"),
                       lambda r: [t for t, _ in r.schedule] == [1, 0], settings=FAST)  # fmt: skip
    assert interleaved.schedule == [(1, 0), (0, 0)]


class box(Struct):
    ptr: Cell = field(None)


def _allocate(k: Kernel, b: box) -> Steps:
    obj = yield k.kmalloc(box, may_fail=True)
    yield k.store(b.ptr, obj)


def _alloc_setup(m: Machine, cfg: Config) -> box:
    b = m.new(box, name="b")
    m.spawn("A", _allocate, b)
    return b


ALLOC = Model(name="inline.alloc", setup=_alloc_setup, variants=(Variant("only"),),
              properties=(Property("allocated", "", lambda m, b: None if b.ptr.value else
                                   "allocation failed", final=True),))  # fmt: skip


def test_nondeterministic_outcomes_are_drawn_too() -> None:
    run = find(schedules(ALLOC), lambda r: r.found is not None, settings=FAST)
    assert run.schedule == [(0, 1), (0, 0)]
    assert "kmalloc" in run.text() and "allocation failed" in run.text()
    ok = replay(ALLOC, "0,0")
    assert ok.verdict == "holds" and "violates nothing" in ok.text()


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(UsageError, match="no variant 'nope'"):
        schedules("examples.lost_update", variant="nope")
    with pytest.raises(UsageError, match="no parameter 'cpus'"):
        schedules("examples.lost_update", cpus=1)
    with pytest.raises(UsageError, match="not readable"):
        replay("examples.lost_update", "0,x", variant="racy")
    with pytest.raises(NondeterministicModel, match="thread 7, which cannot move"):
        replay("examples.lost_update", "0,7", variant="racy")


DATABASE_TEST = """
import pathlib
from hypothesis import given, settings
from hypothesis import Phase
from hypothesis.database import DirectoryBasedExampleDatabase
from ctxcheck.strategies import schedules

@settings(database=DirectoryBasedExampleDatabase("db"), max_examples=100,
          phases=[Phase.reuse, Phase.generate, Phase.shrink])
@given(schedules("examples.lost_update", variant="racy", threads=3))
def test_racy(run):
    with pathlib.Path("log.txt").open("a") as log:
        log.write(run.verdict + "\\n")
    run.assert_holds()
"""


def test_failing_schedule_is_saved_and_replayed_first(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_db=DATABASE_TEST)
    first = pytester.runpytest()
    assert first.ret == pytest.ExitCode.TESTS_FAILED
    first.stdout.fnmatch_lines(["*violates no_lost_update in 6 steps*",
                                "*ctxcheck.strategies.replay('examples.lost_update'*"])  # fmt: skip
    assert any((pytester.path / "db").rglob("*"))
    (pytester.path / "log.txt").unlink()
    second = pytester.runpytest()
    assert second.ret == pytest.ExitCode.TESTS_FAILED
    log = (pytester.path / "log.txt").read_text().split()
    assert log[0] == "violated"


def test_perf_counter_pre_patch_schedule_is_shrunk() -> None:
    """The task_ctx race of a63eaf34's parent, found by @given and shrunk."""
    run = _assert_shrunk("perf_counter.enable_task_ctx", "pre", "prompt_enable")
    assert run.violation is not None
    assert any(e.function == "__perf_counter_enable" for e in run.violation.events)
