"""``random``: uniformly random schedules, reproducible with ``--seed``.

The cheapest tester: at each step pick an enabled thread (and an outcome of
its step) uniformly at random, run to the end, repeat. It finds shallow bugs
fast on models too big to search exhaustively, but it can never prove
anything, so its outcome is never exhaustive: a run that finds nothing is
"inconclusive" (exit 3). ``stats.executions`` is the number of schedules
tried; without ``--max-executions`` it tries :data:`DEFAULT_EXECUTIONS`.

The module is not called ``random`` so that it never shadows the standard
library module of that name.
"""

from __future__ import annotations

import random
from abc import abstractmethod

from ctxcheck.explorers.base import Explorer
from ctxcheck.runtime import Execution

#: schedules tried when no --max-executions is given
DEFAULT_EXECUTIONS = 1000


class SamplingExplorer(Explorer):
    """Shared loop of the probabilistic explorers: N runs, each seeded."""

    exhaustive_capable = False

    def search(self) -> bool:
        self.rng = random.Random(self.budget.seed if self.budget.seed is not None else 0)
        limit = self.budget.max_executions
        if limit is None:
            limit = DEFAULT_EXECUTIONS
        while True:
            if self.out_of_budget():
                return False
            if self.stats.executions >= limit:
                self.stopped = f"max_executions={limit}"
                return False
            ex = self.execution()
            self.run_one(ex)
            self.finish(ex)

    @abstractmethod
    def run_one(self, ex: Execution) -> None:
        """Drive one execution to its end."""

    def outcome_of(self, ex: Execution, tid: int) -> int:
        """A uniformly random outcome of ``tid``'s next step."""
        n = ex.branches(tid)
        return 0 if n == 1 else self.rng.randrange(n)


class RandomExplorer(SamplingExplorer):
    """Uniform random walk over schedules and choices."""

    name = "random"

    def run_one(self, ex: Execution) -> None:
        rng = self.rng
        while not ex.finished:
            tid = rng.choice(ex.enabled())
            ex.step(tid, self.outcome_of(ex, tid))
