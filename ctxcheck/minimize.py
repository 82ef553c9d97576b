"""Minimal counterexamples: the fewest steps, then the fewest preemptions.

An explorer reports the first schedule it met that violates a property; a
reviewer wants the shortest story of the race. :func:`minimize` looks for a
schedule that violates the *same property* with as few steps as possible and,
among those, as few preemptions (switches away from a thread that could have
gone on) as possible. Every candidate is re-executed from the initial state,
so whatever it returns is a real counterexample, minimal or not.

The search, in order:

1. *Slice.* Keep only the steps the violating step depends on (same thread or
   conflicting footprints, transitively) and try that shorter schedule.
2. *Regroup.* Reorder the steps of the schedule, respecting those
   dependencies, so that each thread runs as long as it can; try it when it
   has fewer preemptions.
3. *Shortest.* Iterative deepening: for d = 1, 2, ... a depth-first search
   over every schedule of at most d steps, with sleep sets (Godefroid). Sleep
   sets skip a step only when an equivalent ordering of the same steps (same
   length, same state) was already explored, so every reachable state is
   still reached at its shortest depth: the first d at which the property is
   violated is the length of the shortest counterexample.
4. *Fewest preemptions.* For c = 0, 1, ...: a depth-first search over the
   schedules of at most that length with at most c preemptions (no sleep sets:
   they are unsound under a preemption bound). The first c that finds one is
   the fewest preemptions of any shortest counterexample.

The work is bounded by a budget of executed steps (replays included). When
both searches 3 and 4 complete, the result is exact and marked ``shortest``;
when the budget runs out first, it is the best schedule found so far, marked
``reduced``, with a note saying what is proven (e.g. "no counterexample has
fewer than 7 steps").
"""

from __future__ import annotations

from dataclasses import dataclass

from ctxcheck import ops
from ctxcheck.errors import ModelError
from ctxcheck.explorers.deps import (
    ERROR_FOOTPRINT,
    dependent,
    has_invariants,
    step_footprint,
    stops_others,
)
from ctxcheck.model import Config, Model
from ctxcheck.runtime import Execution, Found

Choice = tuple[int, int]
Schedule = list[Choice]

#: default work budget: steps executed while minimizing one counterexample
DEFAULT_BUDGET = 200_000
#: share of the budget the search for fewer steps may use before preemptions get a turn
_STEPS_SHARE = 0.7

SHORTEST = "shortest"
REDUCED = "reduced"


@dataclass(frozen=True)
class Minimized:
    """The outcome: a schedule violating the property, and how minimal it is."""

    schedule: Schedule
    found: Found
    steps: int
    preemptions: int
    #: ``shortest`` (proven fewest steps, then fewest preemptions) or ``reduced``
    minimal: str
    #: what was proven when not ``shortest`` (or why nothing was searched)
    note: str | None
    #: steps executed by the search
    work: int


class _OutOfBudget(Exception):
    """The work budget ran out."""


def count_preemptions(
    model: Model, config: Config, max_steps: int | None, schedule: Schedule
) -> int:
    """Preemptions of a schedule, counted by re-executing it."""
    ex = Execution(model, config, max_steps)
    count, last = 0, None
    for tid, branch in schedule:
        if last is not None and tid != last and last in ex.enabled():
            count += 1
        ex.step(tid, branch)
        last = tid
    return count


class _Search:
    """Replays and bounded depth-first searches that share one work budget."""

    def __init__(
        self, model: Model, config: Config, max_steps: int | None, prop: str, budget: int
    ) -> None:
        self.model = model
        self.config = config
        self.max_steps = max_steps
        self.prop = prop
        self.budget = budget
        self.limit = budget
        self.work = 0
        #: invariants see the states between writes: writes do not commute then
        self.visible = has_invariants(model)
        #: a final property fails only once every thread has finished
        self.at_end = any(p.final and p.name == prop for p in model.properties)
        # parameters of the current depth-first search
        self._depth = 0
        self._sleep = False
        self._max_preempt: int | None = None

    def spend(self, steps: int) -> None:
        """Count work; stop the search when the current limit is passed."""
        self.work += steps
        if self.work > self.limit:
            raise _OutOfBudget

    def fresh(self, prefix: Schedule) -> Execution:
        """A new execution advanced through ``prefix``."""
        self.spend(len(prefix) + 1)
        ex = Execution(self.model, self.config, self.max_steps)
        for tid, branch in prefix:
            ex.step(tid, branch)
        return ex

    def attempt(self, schedule: Schedule) -> tuple[Execution, list[ops.Footprint]] | None:
        """Run ``schedule``; the execution and each step's footprint if it violates."""
        self.spend(len(schedule) + 1)
        ex = Execution(self.model, self.config, self.max_steps)
        fps: list[ops.Footprint] = []
        for tid, branch in schedule:
            if ex.violation is not None or tid not in ex.enabled():
                return None
            if branch >= ex.branches(tid):
                return None
            fps.append(step_footprint(ex, tid, self.visible))
            ex.step(tid, branch)
        found = ex.violation
        if found is None or found.prop != self.prop or found.step != len(schedule):
            return None
        return ex, fps

    # -- the bounded depth-first search -------------------------------------
    def search(self, depth: int, sleep: bool, max_preempt: int | None) -> Schedule | None:
        """A violating schedule of at most ``depth`` steps, or None if there is none.

        With ``sleep``, sleep sets prune orderings equivalent to explored ones;
        with ``max_preempt``, schedules with more preemptions are not tried.
        """
        self._depth, self._sleep, self._max_preempt = depth, sleep, max_preempt
        return self._dfs([], None, {}, None, 0)

    def _dfs(
        self,
        prefix: Schedule,
        ex: Execution | None,
        sleep: dict[Choice, ops.Footprint],
        last: int | None,
        preempts: int,
    ) -> Schedule | None:
        if ex is None:
            ex = self.fresh(prefix)
        enabled = list(ex.enabled())
        fps = {t: step_footprint(ex, t, self.visible) for t in enabled} if self._sleep else {}
        explored: dict[Choice, ops.Footprint] = {}
        for choice in ex.choices(last):
            tid = choice[0]
            p = preempts + (last is not None and tid != last and last in enabled)
            if choice in sleep or (self._max_preempt is not None and p > self._max_preempt):
                continue
            if ex is None:
                ex = self.fresh(prefix)
            child_sleep = self._child_sleep({**sleep, **explored}, fps.get(tid, ()), tid)
            ex.step(*choice)
            self.spend(1)
            child = [*prefix, choice]
            found = ex.violation
            if found is not None and found.prop == self.prop:
                return child
            if (
                found is None
                and not ex.finished
                and len(child) + self._remaining(ex) <= self._depth
            ):
                hit = self._dfs(child, ex, child_sleep, tid, p)
                if hit is not None:
                    return hit
            # a step that ended the run with another violation hid what comes after
            # it: it must not sleep, so it depends on everything
            stopped = found is not None and stops_others(self.model, found)
            explored[choice] = ERROR_FOOTPRINT if stopped else fps.get(tid, ())
            ex = None
        return None

    def _remaining(self, ex: Execution) -> int:
        """A lower bound on the steps still needed to violate the property."""
        if not self.at_end:
            return 1
        return sum(1 for t in ex.machine.threads if not t.finished)

    def _child_sleep(
        self, sleepers: dict[Choice, ops.Footprint], fp: ops.Footprint, tid: int
    ) -> dict[Choice, ops.Footprint]:
        """Sleepers that stay asleep after ``tid`` moves: those independent of its step."""
        if not self._sleep:
            return {}
        return {
            choice: other
            for choice, other in sleepers.items()
            if choice[0] != tid and not dependent(other, fp)
        }


# -- cheap reductions of one schedule -----------------------------------------
def _predecessors(schedule: Schedule, fps: list[ops.Footprint]) -> list[list[int]]:
    """For each step, the earlier steps it depends on (same thread or a conflict)."""
    preds: list[list[int]] = []
    for j, (tid, _) in enumerate(schedule):
        preds.append([i for i in range(j) if schedule[i][0] == tid or dependent(fps[i], fps[j])])
    return preds


def causal_slice(schedule: Schedule, fps: list[ops.Footprint]) -> Schedule:
    """The steps the last step depends on, transitively, in their original order."""
    if not schedule:
        return []
    preds = _predecessors(schedule, fps)
    keep = {len(schedule) - 1}
    for j in range(len(schedule) - 1, -1, -1):
        if j in keep:
            keep.update(preds[j])
    return [c for i, c in enumerate(schedule) if i in keep]


def regroup(schedule: Schedule, fps: list[ops.Footprint]) -> Schedule:
    """An equivalent order of the same steps in which threads switch less often.

    Keeps running the current thread while its next step has all its
    dependencies placed; otherwise switches to the earliest step that has.
    """
    preds = _predecessors(schedule, fps)
    placed: set[int] = set()
    order: list[int] = []
    current: int | None = None
    while len(order) < len(schedule):
        ready = [
            j
            for j in range(len(schedule))
            if j not in placed and all(i in placed for i in preds[j])
        ]
        same = [j for j in ready if schedule[j][0] == current]
        pick = same[0] if same else ready[0]
        placed.add(pick)
        order.append(pick)
        current = schedule[pick][0]
    return [schedule[j] for j in order]


# -- the driver ---------------------------------------------------------------
class _Best:
    """The best schedule so far and what is known about it."""

    def __init__(self, schedule: Schedule, found: Found, preemptions: int) -> None:
        self.schedule = schedule
        self.found = found
        self.preemptions = preemptions
        self.fewest_steps = False
        self.fewest_preemptions = False
        self.lower_bound = 1
        self.note: str | None = None

    def offer(self, schedule: Schedule, found: Found, preemptions: int) -> None:
        """Keep ``schedule`` if it is better: fewer steps, then fewer preemptions."""
        if (len(schedule), preemptions) < (len(self.schedule), self.preemptions):
            self.schedule, self.found, self.preemptions = schedule, found, preemptions


def minimize(
    model: Model,
    config: Config,
    max_steps: int | None,
    schedule: Schedule,
    prop: str,
    budget: int = DEFAULT_BUDGET,
) -> Minimized:
    """Reduce a violating schedule to the fewest steps, then the fewest preemptions.

    ``schedule`` must violate ``prop`` when replayed; the result violates it
    too. ``budget`` bounds the steps executed by the search.
    """
    search = _Search(model, config, max_steps, prop, budget)
    start = search.attempt(list(schedule))
    if start is None:
        return _unchanged(
            model,
            config,
            max_steps,
            schedule,
            search,
            "not minimized: the schedule did not replay to the same violation",
        )
    ex, _ = start
    found = ex.violation
    assert found is not None
    best = _Best(list(schedule), found, count_preemptions(model, config, max_steps, schedule))
    try:
        _cheap(search, best)
        _fewest_steps(search, best)
        search.limit = budget
        _fewest_preemptions(search, best)
    except _OutOfBudget:
        best.note = _budget_note(best, budget)
    except ModelError as exc:
        first = str(exc).splitlines()[0]
        best.note = f"minimization stopped: another schedule made the model fail ({first})"
    exact = best.fewest_steps and best.fewest_preemptions
    return Minimized(
        best.schedule,
        best.found,
        len(best.schedule),
        best.preemptions,
        SHORTEST if exact else REDUCED,
        None if exact else best.note,
        search.work,
    )


def _unchanged(
    model: Model,
    config: Config,
    max_steps: int | None,
    schedule: Schedule,
    search: _Search,
    note: str,
) -> Minimized:
    ex = Execution(model, config, max_steps)
    ex.replay(list(schedule))
    found = ex.violation or Found(search.prop, "", len(schedule))
    pre = count_preemptions(model, config, max_steps, schedule)
    return Minimized(list(schedule), found, len(schedule), pre, REDUCED, note, search.work)


def _cheap(search: _Search, best: _Best) -> None:
    """Slice away unneeded steps, then regroup the rest into fewer preemptions."""
    run = search.attempt(best.schedule)
    assert run is not None
    sliced = causal_slice(best.schedule, run[1])
    if len(sliced) < len(best.schedule):
        _try(search, best, sliced)
    run = search.attempt(best.schedule)
    assert run is not None
    _try(search, best, regroup(best.schedule, run[1]))


def _try(search: _Search, best: _Best, candidate: Schedule) -> None:
    run = search.attempt(candidate)
    if run is None:
        return
    ex, _ = run
    assert ex.violation is not None
    pre = count_preemptions(search.model, search.config, search.max_steps, candidate)
    best.offer(candidate, ex.violation, pre)


def _fewest_steps(search: _Search, best: _Best) -> None:
    """Iterative deepening with sleep sets up to one step less than the best."""
    if best.found.prop == "termination":
        # every execution that runs out of steps has exactly max_steps of them
        best.fewest_steps = True
        return
    search.limit = int(search.budget * _STEPS_SHARE)
    for depth in range(1, len(best.schedule)):
        best.lower_bound = depth
        hit = search.search(depth, sleep=True, max_preempt=None)
        if hit is not None:
            _try(search, best, hit)
            break
    best.lower_bound = len(best.schedule)
    best.fewest_steps = True


def _fewest_preemptions(search: _Search, best: _Best) -> None:
    """Preemption-bounded search, c = 0, 1, ..., among schedules no longer than the best."""
    for bound in range(best.preemptions):
        hit = search.search(len(best.schedule), sleep=False, max_preempt=bound)
        if hit is not None:
            _try(search, best, hit)
            break
    best.fewest_preemptions = True


def _budget_note(best: _Best, budget: int) -> str:
    steps = len(best.schedule)
    if best.fewest_steps:
        return (
            f"the search budget ({budget} steps) ran out: no counterexample has fewer than "
            f"{steps} steps, but one with fewer than {best.preemptions} preemptions may exist"
        )
    return (
        f"the search budget ({budget} steps) ran out: no counterexample has fewer than "
        f"{best.lower_bound} steps; this one has {steps}"
    )
