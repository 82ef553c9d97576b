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
from typing import ClassVar

from ctxcheck.explorers.base import Explorer
from ctxcheck.explorers.path import Alternatives, Path, depth_first
from ctxcheck.runtime import Execution

#: schedules tried when no --max-executions is given
DEFAULT_EXECUTIONS = 1000


class SamplingExplorer(Explorer):
    """Shared loop of the probabilistic explorers: N runs, each seeded.

    Each run is a walk of :func:`~ctxcheck.explorers.path.depth_first` with
    one choice per branch point, the one :meth:`pick` draws.
    """

    exhaustive_capable = False
    knobs: ClassVar[tuple[str, ...]] = ("seed",)
    #: the seed of the run's random choices (``--seed``; 0 when not given)
    seed: int | None = None

    def search(self) -> bool:
        self.rng = random.Random(self.seed if self.seed is not None else 0)
        limit = self.bounds.max_executions
        if limit is None:
            limit = DEFAULT_EXECUTIONS
        while True:
            if self.out_of_budget():
                return False
            if self.stats.executions >= limit:
                self.stopped = f"max_executions={limit}"
                return False
            depth_first(Path(self.execution), self)

    def branch_point(self, ex: Execution, path: Path[Alternatives]) -> Alternatives | None:
        """The one choice :meth:`pick` draws (a new run begins at the empty path)."""
        if not path.nodes:
            self.begin(ex)
        if ex.finished:
            return None
        return Alternatives([self.pick(ex)])

    def leaf(self, ex: Execution, path: Path[Alternatives]) -> bool:
        """Count the run."""
        self.finish(ex)
        return True

    def resume(self, path: Path[Alternatives]) -> bool:
        """Never asked: there is one choice per branch point."""
        return True

    def begin(self, ex: Execution) -> None:
        """A new run starts in state ``ex`` (nothing to prepare by default)."""

    @abstractmethod
    def pick(self, ex: Execution) -> tuple[int, int]:
        """The (thread, outcome) that moves next."""

    def outcome_of(self, ex: Execution, tid: int) -> int:
        """A uniformly random outcome of ``tid``'s next step."""
        n = ex.branches(tid)
        return 0 if n == 1 else self.rng.randrange(n)


class RandomExplorer(SamplingExplorer):
    """Uniform random walk over schedules and choices."""

    name = "random"

    def pick(self, ex: Execution) -> tuple[int, int]:
        tid = self.rng.choice(ex.enabled())
        return tid, self.outcome_of(ex, tid)
