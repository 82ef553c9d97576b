"""Hypothesis strategies over schedules of a model.

``schedules(target, variant=..., **params)`` draws one complete execution of
a model: at every step it draws which (thread, outcome) moves, even where
only one may (so the shortest failing draw sequence is the shortest failing
schedule, and hypothesis's shrinker, which shortens draw sequences first,
shortens the schedule). Choice 0 is always "the thread that just moved goes
on" (then the others in thread order), so among schedules of one length
hypothesis prefers the one with the fewest context switches. The test
receives a :class:`ScheduleRun`, already executed::

    from hypothesis import given, settings
    from ctxcheck.strategies import schedules

    @settings(max_examples=200)
    @given(schedules("examples.lost_update", variant="racy"))
    def test_no_lost_update(run):
        run.assert_holds()      # fails with the shrunk schedule as a text trace

Because every draw goes through hypothesis, its example database stores a
failing schedule and replays it first on the next run, and its shrinker
reduces it. A failure message ends with the :func:`replay` call that
re-runs exactly that schedule.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from hypothesis import strategies as st

from ctxcheck.counterexample import build_violation, record
from ctxcheck.errors import UsageError
from ctxcheck.explorers.base import Discovery, Stats
from ctxcheck.loader import load_model
from ctxcheck.machine import Machine
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.result import CheckFailed, Result, Violation, decode_schedule, encode_schedule
from ctxcheck.runtime import Execution, Found

Schedule = list[tuple[int, int]]


class ScheduleRun:
    """One executed schedule of a model: what it did and what it violated."""

    def __init__(self, model: Model, config: Config, budget: Bounds, execution: Execution) -> None:
        self.model = model
        self.config = config
        self.budget = budget
        self.execution = execution
        #: the (thread id, outcome) pairs taken, in order
        self.schedule: Schedule = list(execution.schedule)

    @property
    def found(self) -> Found | None:
        """The violation this schedule ran into, if any (without its trace)."""
        return self.execution.violation

    @property
    def verdict(self) -> str:
        """``violated`` or ``holds`` (for this one schedule)."""
        return "violated" if self.found is not None else "holds"

    @property
    def machine(self) -> Machine:
        """The machine at the end of the schedule, for assertions of the test's own."""
        return self.execution.machine

    @property
    def state(self) -> Any:
        """The model's state object at the end of the schedule."""
        return self.execution.state

    @cached_property
    def violation(self) -> Violation | None:
        """The violation with its recorded trace (replayed on first use)."""
        found = self.found
        if found is None:
            return None
        return build_violation(self.model, self.config, self.budget.max_steps,
                               Discovery(self.schedule, found))  # fmt: skip

    def replay_call(self) -> str:
        """The Python call that re-runs exactly this schedule."""
        args = [repr(self.model.name), repr(encode_schedule(self.schedule)),
                f"variant={self.config.variant!r}"]  # fmt: skip
        args += [f"{k}={v!r}" for k, v in self.config.params.items()]
        return f"ctxcheck.strategies.replay({', '.join(args)})"

    def __repr__(self) -> str:
        return self.replay_call().removeprefix("ctxcheck.strategies.")

    def result(self) -> Result:
        """This schedule as a one-execution, non-exhaustive :class:`Result`."""
        v = self.violation
        return Result(
            model=self.model.name,
            variant=self.config.variant,
            params=dict(self.config.params),
            explorer="dpor",
            exhaustive=False,
            bounds=self.budget,
            stats=Stats(executions=1, steps=len(self.schedule)),
            violations=[v] if v is not None else [],
            stopped="one hypothesis schedule",
        )

    def text(self) -> str:
        """The annotated text trace of this schedule."""
        from ctxcheck.render.text import render_violation

        v = self.violation
        if v is not None:
            return render_violation(self.result(), v)
        ex = record(self.model, self.config, self.budget.max_steps, self.schedule)
        lines = [f"{self.model.name} [{self.config.variant}]: schedule "
                 f"{encode_schedule(self.schedule)} violates nothing", ""]  # fmt: skip
        lines += [f"{e.step:>4}{'*' if e.preemption else ' '}{e.thread:<18} {e.function:<24} "
                  f"{e.text}" for e in ex.events]  # fmt: skip
        return "\n".join(lines)

    def assert_holds(self) -> None:
        """Fail with the text trace if this schedule violated a property."""
        __tracebackhide__ = True
        if self.found is not None:
            raise CheckFailed(f"{self.text()}\nReplay this exact schedule:\n  {self.replay_call()}")


def _start(model: Model, config: Config, budget: Bounds) -> Execution:
    return Execution(model, config, budget.max_steps)


@st.composite
def _runs(draw: st.DrawFn, model: Model, config: Config, budget: Bounds) -> ScheduleRun:
    ex = _start(model, config, budget)
    last: int | None = None
    while not ex.finished:
        alts = ex.choices(last)
        # drawn even when there is one choice: the length of hypothesis's
        # choice sequence is then the schedule's, so shrinking shortens it
        pick = draw(st.integers(0, len(alts) - 1))
        tid, branch = alts[pick]
        ex.step(tid, branch)
        last = tid
    return ScheduleRun(model, config, budget, ex)


def schedules(
    target: str | Model,
    variant: str | None = None,
    *,
    max_steps: int | None = None,
    **params: Any,
) -> st.SearchStrategy[ScheduleRun]:
    """A strategy of executed schedules of a model (see the module docstring).

    ``target``, ``variant`` and ``params`` are as for :func:`ctxcheck.check`;
    they are checked here, so a typo fails when the test is defined, not
    deep inside hypothesis.
    """
    model = load_model(target)
    config = model.config(variant, params)
    budget = Bounds(max_steps=max_steps if max_steps is not None else model.max_steps)
    return _runs(model, config, budget)


def replay(
    target: str | Model,
    schedule: str | Schedule,
    variant: str | None = None,
    *,
    max_steps: int | None = None,
    **params: Any,
) -> ScheduleRun:
    """Re-run one schedule (as printed in a failure) without hypothesis."""
    model = load_model(target)
    config = model.config(variant, params)
    budget = Bounds(max_steps=max_steps if max_steps is not None else model.max_steps)
    try:
        steps = decode_schedule(schedule) if isinstance(schedule, str) else list(schedule)
    except ValueError:
        raise UsageError(
            f"schedule {schedule!r} is not readable: write it as printed, e.g. '0,1,1/1,0'"
        ) from None
    ex = _start(model, config, budget)
    ex.replay(steps)
    return ScheduleRun(model, config, budget, ex)


from ctxcheck.oracles.programs import programs as programs  # noqa: E402 - re-exported for users
