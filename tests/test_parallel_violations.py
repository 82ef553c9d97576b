"""A split search's counterexamples are minimised side by side, and are one process's.

:mod:`ctxcheck.parallel.violations` runs each violated property's
minimisation in its own forked worker. Each minimisation is deterministic
given its discovery, so the violations must be exactly those the same
discoveries give minimised one after the other, and a check's timeout must
still be shared out so that the whole check keeps to it.
"""

from __future__ import annotations

import os
import time

import pytest

import ctxcheck
from ctxcheck.counterexample import build_violations, deadlines
from ctxcheck.explorers import create_explorer
from ctxcheck.loader import load_model
from ctxcheck.options import Bounds, Options
from ctxcheck.parallel import violations as side_by_side
from ctxcheck.result import Violation


def _key(v: Violation) -> tuple[object, ...]:
    return (v.property, v.steps, v.preemptions, v.schedule, v.minimal, v.minimal_note, v.message)


_MINIMISE = side_by_side._minimise


def _noting(task: tuple[int, float | None]) -> Violation:
    """Minimise as the workers do, noting in the message which process did it."""
    v = _MINIMISE(task)
    v.message += f"@{os.getpid()}"  # taken off by the test
    return v


def test_side_by_side_gives_the_violations_of_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = load_model("perf_counter.ctx_lifetime")
    config = model.config("pre", {})
    bounds = Bounds(model.max_steps)
    outcome = create_explorer(model, config, Options("dpor", bounds), bounds, None).run()
    assert len(outcome.discoveries) >= 2  # list_integrity and memory_safety
    alone = build_violations(model, config, bounds, outcome.discoveries)
    pids: set[int] = set()
    monkeypatch.setattr(side_by_side, "_minimise", _noting)
    apart = side_by_side.build_violations_side_by_side(
        model, config, bounds, outcome.discoveries, workers=2
    )
    for v in apart:
        v.message, _, pid = v.message.rpartition("@")
        pids.add(int(pid))
    assert [_key(v) for v in apart] == [_key(v) for v in alone]
    assert len(pids) == 2 and os.getpid() not in pids  # two workers, not this process


def test_a_split_check_reports_the_same_counterexamples() -> None:
    # post: every counterexample is proven shortest, so the split's own first
    # schedules (another order of the same search) minimise to the same lengths
    one = ctxcheck.check("perf_counter.ctx_lifetime", variant="post")
    two = ctxcheck.check("perf_counter.ctx_lifetime", variant="post", jobs=2)
    assert all(v.minimal == "shortest" for v in one.violations)
    assert [(v.property, v.steps, v.preemptions, v.minimal) for v in two.violations] == [
        (v.property, v.steps, v.preemptions, v.minimal) for v in one.violations
    ]


def test_the_time_left_is_shared_out_by_rounds() -> None:
    assert deadlines(3, 2, None, None) == [None, None, None]
    start = time.monotonic()
    got = deadlines(3, 2, 100.0, start)  # two rounds: two at once, then one
    assert got[0] == got[1] and got[2] is not None and got[0] is not None
    assert got[0] - start == pytest.approx(50.0, abs=1.0)
    assert got[2] - start == pytest.approx(100.0, abs=1.0)
    alone = deadlines(2, 1, 10.0, start)  # one at a time: halves
    assert alone[0] is not None and alone[0] - start == pytest.approx(5.0, abs=1.0)
    late = deadlines(1, 1, 10.0, start - 20.0)  # the timeout has passed: now
    assert late[0] is not None and late[0] <= time.monotonic()


def test_the_dearest_counterexamples_are_handed_out_first() -> None:
    from ctxcheck.events import Found
    from ctxcheck.explorers.base import Discovery

    model = load_model("perf_counter.ctx_lifetime")

    def found(prop: str, steps: int) -> Discovery:
        return Discovery([(0, 0)] * steps, Found(prop, "", steps))

    # no_leak is judged at the end (a deciding-step walk follows): first, though shortest
    got = side_by_side.dearest_first(
        model, [found("consistent_cpuctx", 50), found("memory_safety", 90), found("no_leak", 40)]
    )
    assert got == [2, 1, 0]
