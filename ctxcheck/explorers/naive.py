"""``naive``: every schedule and every choice, depth first. The reference oracle.

No reduction at all: at each step every enabled thread, with every outcome of
its step, is a branch. It is slow on purpose; its job is to be obviously
right, so that the clever explorers can be tested against it.

It is the plainest chooser of :func:`ctxcheck.explorers.path.depth_first`:
every choice at every branch point. At each step the thread that just moved
is tried first, so the first counterexample found tends to have few
preemptions.
"""

from __future__ import annotations

from ctxcheck.explorers.base import Explorer
from ctxcheck.explorers.path import Alternatives, Path, depth_first
from ctxcheck.runtime import Execution


class NaiveExplorer(Explorer):
    """Exhaustive depth-first search over all interleavings."""

    name = "naive"

    def search(self) -> bool:
        return depth_first(Path(self.execution), self)

    def branch_point(self, ex: Execution, path: Path[Alternatives]) -> Alternatives | None:
        """Every (thread, outcome) that may move, the last mover's first."""
        if ex.finished:
            return None
        return Alternatives(ex.choices(ex.last_tid))

    def leaf(self, ex: Execution, path: Path[Alternatives]) -> bool:
        """Count the run; go on unless a budget has run out."""
        self.finish(ex)
        return True

    def resume(self, path: Path[Alternatives]) -> bool:
        """Before the next alternative: go on unless a budget has run out."""
        return not self.out_of_budget()
