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
3. *Shortest.* Iterative deepening: for growing bounds d a depth-first
   search over every schedule of at most d steps, with sleep sets
   (Godefroid). Sleep sets skip a step only when an equivalent ordering of
   the same steps (same length, same state) was already explored, so every
   reachable state is still reached at its shortest depth. Each search is
   branch and bound: a violating schedule of L steps lowers its bound to
   L - 1 and the search goes on, so when it completes the best schedule it
   met is a shortest one. The bounds do not grow by one step: a search
   costs about as much as all those before it together (the tree below a
   bound grows with the bound), so the next bound is the deepest whose
   search, extrapolated from the growth of the last two, costs about twice
   the work so far (:func:`next_bound`). On trees that grow polynomially
   (kernel models, where most steps commute) that reaches the discovered
   schedule's length in a few searches instead of one per step
   (ctx_lifetime's no_leak: 135,523 steps of work for d = 1..59, one per
   step, against one search of 8,458 at d = 59); on trees that grow
   exponentially it stays close to one step at a time.
4. *Fewest preemptions.* For c = 0, 1, ...: a depth-first search over the
   schedules of at most that length with at most c preemptions (no sleep sets:
   they are unsound under a preemption bound). The first c that finds one is
   the fewest preemptions of any shortest counterexample.

The work is bounded by a budget of executed steps (replays included) and,
when the check has a ``--timeout``, by its deadline: the timeout is the
budget of the whole check, search and minimisation (:mod:`ctxcheck.watchdog`
ends a step that never returns). When both searches 3 and 4 complete, the
result is exact and marked ``shortest``; when a budget runs out first, it is
the best schedule found so far, marked ``reduced``, with a note saying what
is proven (e.g. "no counterexample has fewer than 7 steps").

Under a preemption bound (``--max-preemptions K``, explorer ``bounded``)
only schedules of at most K preemptions are candidates, so the minimal
counterexample keeps to the bound; search 3 then runs without sleep sets.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ctxcheck.errors import ModelError
from ctxcheck.explorers.deps import (
    ERROR_FOOTPRINT,
    dependent,
    has_invariants,
    step_footprint,
    stops_others,
)
from ctxcheck.explorers.path import Alternatives, Path, attempt, depth_first, follow
from ctxcheck.model import Config, Model
from ctxcheck.primitives.base import Footprint
from ctxcheck.runtime import Execution, Found, SearchState
from ctxcheck.watchdog import GRACE, Watchdog

Choice = tuple[int, int]
Schedule = list[Choice]

#: default work budget: steps executed while minimizing one counterexample
DEFAULT_BUDGET = 200_000
#: the bound of the first search for fewer steps (None: the schedule's length less one)
FIRST_BOUND: int | None = 1
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


class _OutOfTime(_OutOfBudget):
    """The check's deadline (``--timeout``) passed."""


class _Point(Alternatives):
    """A branch point of the bounded search, with its sleep set (Godefroid)."""

    __slots__ = ("explored", "fps", "sleep", "stopped")

    def __init__(
        self, alts: list[Choice], sleep: dict[Choice, Footprint], fps: dict[int, Footprint]
    ) -> None:
        super().__init__(alts)
        self.sleep = sleep
        self.fps = fps
        #: choices explored from here, with the footprint they sleep with
        self.explored: dict[Choice, Footprint] = {}
        #: the current choice's step ended the run with another violation
        self.stopped = False

    def advance(self) -> bool:
        # a step that ended the run with another violation hid what comes after
        # it: it must not sleep, so it depends on everything
        fp = ERROR_FOOTPRINT if self.stopped else self.fps.get(self.tid, ())
        self.explored[(self.tid, self.branch)] = fp
        self.stopped = False
        return super().advance()


class _Search:
    """Replays and bounded depth-first searches that share one work budget.

    Its runs are one search (:class:`~ctxcheck.runtime.SearchState`): the same
    object ids and the same learnt invariant reads in every run, so the
    footprints its sleep sets compare are those of one search.
    """

    def __init__(
        self, model: Model, config: Config, max_steps: int | None, prop: str, budget: int
    ) -> None:
        self.model = model
        self.prop = prop
        self.budget = budget
        self.limit = budget
        self.work = 0
        #: ``time.monotonic()`` past which the search stops (None: no deadline)
        self.deadline: float | None = None
        #: no candidate may have more preemptions (None: no bound)
        self.max_preemptions: int | None = None
        self.state = SearchState(model, config, max_steps)
        #: invariants see the states between writes: writes do not commute then
        self.visible = has_invariants(model)
        #: a final property fails only once every thread has finished
        self.at_end = any(p.final and p.name == prop for p in model.properties)
        # parameters of the current depth-first search
        self._depth = 0
        self._sleep = False
        self._max_preempt: int | None = None
        self._hit: Schedule | None = None
        self._shrink = False

    def spend(self, steps: int) -> None:
        """Count work; stop the search when the current limit is passed."""
        self.work += steps
        if self.work > self.limit:
            raise _OutOfBudget
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise _OutOfTime

    def execution(self) -> Execution:
        """A fresh run of the model (not counted: callers count what they replay)."""
        return self.state.execution()

    def preemptions(self, schedule: Schedule) -> int:
        """Preemptions of a schedule, counted by re-executing it."""
        return follow(self.execution, schedule).preemptions

    def attempt(self, schedule: Schedule) -> tuple[Execution, list[Footprint]] | None:
        """Run ``schedule``; the execution and each step's footprint if it violates."""
        self.spend(len(schedule) + 1)
        fps: list[Footprint] = []
        ex = attempt(self.execution, schedule, lambda ex, tid: fps.append(self._footprint(ex, tid)))
        if ex is None:
            return None
        found = ex.violation
        if found is None or found.prop != self.prop or found.step != len(schedule):
            return None
        return ex, fps

    def _footprint(self, ex: Execution, tid: int) -> Footprint:
        return step_footprint(ex, tid, self.visible)

    # -- the bounded depth-first search -------------------------------------
    def search(
        self, depth: int, sleep: bool, max_preempt: int | None, shrink: bool = False
    ) -> Schedule | None:
        """A violating schedule of at most ``depth`` steps, or None if there is none.

        With ``sleep``, sleep sets prune orderings equivalent to explored ones;
        with ``max_preempt``, schedules with more preemptions are not tried.
        With ``shrink`` (branch and bound) the search does not stop at a hit:
        it lowers its bound below the hit and goes on, and returns the
        shortest violating schedule of at most ``depth`` steps.
        """
        self._depth, self._sleep, self._max_preempt = depth, sleep, max_preempt
        self._hit, self._shrink = None, shrink
        self.spend(1)
        depth_first(Path(self.execution), self)
        return self._hit

    def branch_point(self, ex: Execution, path: Path[_Point]) -> _Point | None:
        """The choices below this state that the bounds and the sleep set leave."""
        nodes = path.nodes
        if nodes:
            self.spend(1)
            found = ex.violation
            nodes[-1].stopped = found is not None and stops_others(self.model, found)
            if found is not None and found.prop == self.prop:
                self._hit = path.schedule()
                if self._shrink:
                    self._depth = len(self._hit) - 1
                return None
            if ex.finished or len(nodes) + self._remaining(ex) > self._depth:
                return None
        elif ex.finished:
            return None
        sleep = self._inherited(nodes[-1]) if nodes else {}
        fps = {t: self._footprint(ex, t) for t in ex.enabled()} if self._sleep else {}
        bound = self._max_preempt
        alts = [
            choice
            for choice in ex.choices(ex.last_tid)
            if choice not in sleep
            and (bound is None or ex.preemptions + ex.is_preemption(choice[0]) <= bound)
        ]
        return _Point(alts, sleep, fps) if alts else None

    def leaf(self, ex: Execution, path: Path[_Point]) -> bool:
        """Stop at the first schedule that violates the property (unless shrinking)."""
        return self._shrink or self._hit is None

    def resume(self, path: Path[_Point]) -> bool:
        """The walk replays the path for its next choice: count it."""
        self.spend(len(path.nodes))
        return True

    def _remaining(self, ex: Execution) -> int:
        """A lower bound on the steps still needed to violate the property."""
        if not self.at_end:
            return 1
        return sum(1 for t in ex.machine.threads if not t.finished)

    def _inherited(self, parent: _Point) -> dict[Choice, Footprint]:
        """Sleepers that stay asleep after the parent's step: those independent of it."""
        if not self._sleep:
            return {}
        fp = parent.fps.get(parent.tid, ())
        sleepers = {**parent.sleep, **parent.explored}
        return {
            choice: other
            for choice, other in sleepers.items()
            if choice[0] != parent.tid and not dependent(other, fp)
        }


# -- cheap reductions of one schedule -----------------------------------------
def _predecessors(schedule: Schedule, fps: list[Footprint]) -> list[list[int]]:
    """For each step, the earlier steps it depends on (same thread or a conflict)."""
    preds: list[list[int]] = []
    for j, (tid, _) in enumerate(schedule):
        preds.append([i for i in range(j) if schedule[i][0] == tid or dependent(fps[i], fps[j])])
    return preds


def causal_slice(schedule: Schedule, fps: list[Footprint]) -> Schedule:
    """The steps the last step depends on, transitively, in their original order."""
    if not schedule:
        return []
    preds = _predecessors(schedule, fps)
    keep = {len(schedule) - 1}
    for j in range(len(schedule) - 1, -1, -1):
        if j in keep:
            keep.update(preds[j])
    return [c for i, c in enumerate(schedule) if i in keep]


def regroup(schedule: Schedule, fps: list[Footprint]) -> Schedule:
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

    def offer(
        self, schedule: Schedule, found: Found, preemptions: int, bound: int | None = None
    ) -> None:
        """Keep ``schedule`` if it is better (fewer steps, then fewer preemptions) and in bound."""
        if bound is not None and preemptions > bound:
            return
        if (len(schedule), preemptions) < (len(self.schedule), self.preemptions):
            self.schedule, self.found, self.preemptions = schedule, found, preemptions


def minimize(
    model: Model,
    config: Config,
    max_steps: int | None,
    schedule: Schedule,
    prop: str,
    budget: int = DEFAULT_BUDGET,
    deadline: float | None = None,
    max_preemptions: int | None = None,
) -> Minimized:
    """Reduce a violating schedule to the fewest steps, then the fewest preemptions.

    ``schedule`` must violate ``prop`` when replayed; the result violates it
    too. ``budget`` bounds the steps executed by the search, ``deadline``
    (a ``time.monotonic()`` value) its time; ``max_preemptions`` bounds the
    preemptions of every candidate (``schedule`` keeps to it).
    """
    search = _Search(model, config, max_steps, prop, budget)
    start = search.attempt(list(schedule))  # replays what a search ran: not timed
    if start is None:
        return _unchanged(
            schedule, search, "not minimized: the schedule did not replay to the same violation"
        )
    ex, _ = start
    found = ex.violation
    assert found is not None
    best = _Best(list(schedule), found, search.preemptions(schedule))
    search.deadline, search.max_preemptions = deadline, max_preemptions
    with Watchdog(None if deadline is None else deadline + GRACE) as dog:
        try:
            _cheap(search, best)
            _fewest_steps(search, best)
            search.limit = budget
            _fewest_preemptions(search, best)
        except _OutOfTime:
            best.note = _budget_note(best, "the time budget of the check (--timeout) ran out")
        except _OutOfBudget:
            best.note = _budget_note(best, f"the search budget ({budget} steps) ran out")
        except ModelError as exc:
            first = str(exc).splitlines()[0]
            best.note = f"minimization stopped: another schedule made the model fail ({first})"
    if dog.fired is not None:  # a candidate's step never came back
        best.note = _budget_note(best, "the time budget of the check (--timeout) ran out")
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


def _unchanged(schedule: Schedule, search: _Search, note: str) -> Minimized:
    ex = follow(search.execution, schedule)
    found = ex.violation or Found(search.prop, "", len(schedule))
    pre = ex.preemptions
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
    pre = search.preemptions(candidate)
    best.offer(candidate, ex.violation, pre, search.max_preemptions)


def _fewest_steps(search: _Search, best: _Best) -> None:
    """Iterative deepening with sleep sets up to one step less than the best.

    Each depth-first search is branch and bound (``shrink``), so bounds may
    grow by more than one step (:func:`next_bound`) and still prove the
    fewest steps: a search that meets no violation proves there is none of
    at most its bound; one that does returns a shortest one.
    """
    if best.found.prop == "termination":
        # every execution that runs out of steps has exactly max_steps of them
        best.fewest_steps = True
        return
    search.limit = int(search.budget * _STEPS_SHARE)
    bound = search.max_preemptions  # sleep sets are unsound under a preemption bound
    depth, costs = FIRST_BOUND or len(best.schedule) - 1, []
    while depth < len(best.schedule):
        work = search.work
        hit = search.search(depth, sleep=bound is None, max_preempt=bound, shrink=True)
        if hit is not None:
            _try(search, best, hit)
            break
        best.lower_bound = depth + 1  # no counterexample of at most ``depth`` steps
        costs.append((depth, search.work - work))
        depth = next_bound(costs, len(best.schedule) - 1)
    best.lower_bound = len(best.schedule)
    best.fewest_steps = True


def next_bound(costs: list[tuple[int, int]], cap: int) -> int:
    """The next bound of iterative deepening, from the (bound, work) of the searches so far.

    The deepest bound whose search costs about twice the work so far, if the
    work per search keeps growing by the factor of the last two searches'
    per step of bound: at least one step (past ``cap`` when the search at
    ``cap`` is done), at most twice the bound (the first
    searches are too small to extrapolate from), at most ``cap``. Why twice
    the work: the whole deepening then costs a small multiple of its last
    search, and no search costs much more than all before it together.
    """
    depth, work = costs[-1]
    if len(costs) < 2 or work <= 0 or depth >= cap:
        return depth + 1
    before, work_before = costs[-2]
    total = sum(w for _, w in costs)
    growth = max(work / max(work_before, 1), 1.0) ** (1 / (depth - before))
    steps = cap - depth
    if growth > 1.0 + 1e-9:
        steps = int(math.log(max(2 * total / work, 1.0)) / math.log(growth))
    # never more than double the bound: early searches are too small to extrapolate
    return max(depth + 1, min(depth + steps, 2 * depth, cap))


def _fewest_preemptions(search: _Search, best: _Best) -> None:
    """Preemption-bounded search, c = 0, 1, ..., among schedules no longer than the best."""
    for bound in range(best.preemptions):
        hit = search.search(len(best.schedule), sleep=False, max_preempt=bound)
        if hit is not None:
            _try(search, best, hit)
            break
    best.fewest_preemptions = True


def _budget_note(best: _Best, why: str) -> str:
    steps = len(best.schedule)
    if best.fewest_steps:
        return (
            f"{why}: no counterexample has fewer than {steps} steps, but one with fewer "
            f"than {best.preemptions} preemptions may exist"
        )
    if best.lower_bound <= 1:
        return f"{why} before the search for a shorter counterexample could prove anything"
    return f"{why}: no counterexample has fewer than {best.lower_bound} steps; this one has {steps}"
