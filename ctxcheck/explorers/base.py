"""What every explorer shares: budgets, statistics, discoveries, the run loop.

An explorer chooses schedules; the runtime executes them. All explorers
report through the same :class:`Outcome`: the statistics (executions,
sleep-set-blocked executions, distinct states where the explorer stores
them, steps, seconds), whether the search was exhaustive within its bounds
(and if not, why it stopped), and for each violated property the schedule
of one counterexample. Turning a schedule into a readable trace is done once,
later, by :mod:`ctxcheck.counterexample`, whatever explorer found it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

from ctxcheck.model import Config, Model
from ctxcheck.observe import PropertyReads, reads_into
from ctxcheck.runtime import Execution, Found

Schedule = list[tuple[int, int]]


@dataclass(frozen=True)
class Budget:
    """Bounds of a search. None means unbounded."""

    max_steps: int | None = None
    max_executions: int | None = None
    timeout: float | None = None
    max_preemptions: int | None = None
    seed: int | None = None
    #: bug depth ``d`` targeted by the ``pct`` explorer (None: its default)
    pct_depth: int | None = None


@dataclass
class Stats:
    """The statistics every explorer reports, under the same names."""

    executions: int = 0
    blocked: int = 0
    states: int | None = None
    steps: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        """The contract's ``stats`` object."""
        return {
            "executions": self.executions,
            "blocked": self.blocked,
            "states": self.states,
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Discovery:
    """One counterexample: the schedule and what it violated."""

    schedule: Schedule
    found: Found


@dataclass
class Outcome:
    """What an explorer hands back."""

    stats: Stats
    exhaustive: bool
    stopped: str | None = None
    discoveries: dict[str, Discovery] = field(default_factory=dict)


#: called now and then with the running statistics (for progress bars)
ProgressHook = Callable[[Stats], None]


class Explorer(ABC):
    """Base class: budgets, counting and recording; subclasses pick schedules.

    A subclass implements :meth:`search`, calling :meth:`execution` for a
    fresh run, :meth:`finish` when a run ends and :meth:`out_of_budget` to
    know when to stop. ``stop_on_first`` ends the search at the first
    violation (what a random tester or a pytest assertion wants).
    """

    name = "explorer"
    #: True when a complete search proves the properties within the bounds
    exhaustive_capable = True

    def __init__(
        self,
        model: Model,
        config: Config,
        budget: Budget,
        progress: ProgressHook | None = None,
        stop_on_first: bool = False,
    ) -> None:
        self.model = model
        self.config = config
        self.budget = budget
        self.progress = progress
        self.stop_on_first = stop_on_first
        self.stats = Stats()
        self.discoveries: dict[str, Discovery] = {}
        #: objects the model's invariants have read, in any run of this search
        self.observed = PropertyReads()
        self._primed = False
        self._start = 0.0
        self._deadline: float | None = None
        self.stopped: str | None = None
        self._next_progress = 0.0

    # -- the interface ---------------------------------------------------
    def run(self) -> Outcome:
        """Search, then report; a Ctrl-C ends the search with what it has."""
        self._start = time.monotonic()
        if self.budget.timeout is not None:
            self._deadline = self._start + self.budget.timeout
        try:
            complete = self.search()
        except KeyboardInterrupt:
            complete = False
            self.stopped = "interrupted"
        self.stats.seconds = time.monotonic() - self._start
        exhaustive = complete and self.stopped is None and self.exhaustive_capable
        if self.stop_on_first and self.discoveries:
            exhaustive = False
        return Outcome(self.stats, exhaustive, self.stopped, self.discoveries)

    @abstractmethod
    def search(self) -> bool:
        """Explore; return True when the search space was covered."""

    # -- helpers for subclasses --------------------------------------------
    def execution(self, record: bool = False) -> Execution:
        """A fresh run of the model from its initial state.

        All runs of one search share the set of objects invariants have read
        (:mod:`ctxcheck.observe`), so a write becomes visible in every run as
        soon as some run has seen an invariant read its object.
        """
        return self.observing(
            Execution(self.model, self.config, self.budget.max_steps, record=record)
        )

    def observing(self, ex: Execution) -> Execution:
        """Make ``ex`` share the search's set of objects invariants read.

        Before the first run the invariants are evaluated once on the initial
        state, recording what they read, so that writes to those objects are
        visible from the very first step of every run: the footprint of a
        step must not depend on which runs came before it (DPOR's sleep and
        backtrack sets, and the wakeup trees, compare footprints of different
        runs). Their verdict there is ignored, as is any error they raise:
        the runtime checks them for real after each step and reports both.
        """
        if not self._primed:
            self._primed = True
            invariants = self.model.invariants()
            with reads_into(self.observed):
                for i, prop in enumerate(invariants):
                    self.observed.judging(i)
                    with suppress(Exception):
                        prop.check(ex.machine, ex.state)
        ex.observed = self.observed
        return ex

    def finish(self, ex: Execution, blocked: bool = False) -> None:
        """Count a finished run and keep its violation, if any."""
        if blocked:
            self.stats.blocked += 1
        else:
            self.stats.executions += 1
        self.stats.steps += ex.steps
        found = ex.violation
        if found is not None:
            known = self.discoveries.get(found.prop)
            if known is None or len(ex.schedule) < len(known.schedule):
                self.discoveries[found.prop] = Discovery(list(ex.schedule), found)
        if self.progress is not None:
            now = time.monotonic()
            if now >= self._next_progress:
                self._next_progress = now + 0.1
                self.stats.seconds = now - self._start
                self.progress(self.stats)

    def out_of_budget(self) -> bool:
        """True (and :attr:`stopped` set) when a budget has run out."""
        if self.stop_on_first and self.discoveries:
            self.stopped = "first violation"
            return True
        limit = self.budget.max_executions
        if limit is not None and self.stats.executions + self.stats.blocked >= limit:
            self.stopped = f"max_executions={limit}"
            return True
        if self._deadline is not None and time.monotonic() >= self._deadline:
            self.stopped = f"timeout={self.budget.timeout}s"
            return True
        return False
