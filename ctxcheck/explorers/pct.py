"""``pct``: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).

A random walk mostly interleaves threads finely and rarely produces the
long runs of one thread that many bugs need. PCT instead gives each thread
a random priority and always runs the highest-priority enabled thread; at
``d - 1`` random *change points* (steps drawn from ``1..k``, ``k`` being the
longest execution seen so far) the running thread drops below every other
thread. A bug of *depth* ``d`` (needing ``d`` ordering constraints) is then
found by each run with probability at least ``1 / (n k^(d-1))`` for ``n``
threads, so the number of runs needed is known in advance rather than hoped
for.

The depth is the explorer's ``depth`` knob (default :data:`DEFAULT_DEPTH`);
the ``seed`` knob (``--seed``) makes the runs reproducible. Threads spawned during a run
get a random priority among the initial ones. Nondeterministic choices take
a uniformly random outcome. Like ``random``, it never claims a property
holds (exit 3 when nothing was found), and ``stats.executions`` is the
number of schedules tried.
"""

from __future__ import annotations

from ctxcheck.explorers.path import Alternatives, Path
from ctxcheck.explorers.randomwalk import SamplingExplorer
from ctxcheck.runtime import Execution

#: bug depth targeted when none is given
DEFAULT_DEPTH = 3


class PctExplorer(SamplingExplorer):
    """Random priorities with d - 1 priority change points per run."""

    name = "pct"
    knobs = ("seed", "depth")

    #: longest execution seen, the range change points are drawn from
    k = 0

    #: the bug depth d targeted (:data:`DEFAULT_DEPTH` when not given)
    depth: int | None = None

    def begin(self, ex: Execution) -> None:
        """Draw the run's priorities and its d - 1 change points."""
        rng = self.rng
        depth = self.depth or DEFAULT_DEPTH
        n = self.n = len(ex.machine.threads)
        order = list(range(n))
        rng.shuffle(order)
        # priorities d .. d + n - 1 (higher runs first); 1 .. d - 1 are for change points
        self.prio: dict[int, float] = {tid: depth + rank for rank, tid in enumerate(order)}
        horizon = max(self.k, 1)
        points = rng.sample(range(1, horizon + 1), min(depth - 1, horizon))
        self.change = {step: i + 1 for i, step in enumerate(points)}

    def pick(self, ex: Execution) -> tuple[int, int]:
        rng, prio, n = self.rng, self.prio, self.n
        depth = self.depth or DEFAULT_DEPTH
        for t in ex.machine.threads:
            if t.tid not in prio:
                prio[t.tid] = depth + rng.random() * n
        enabled = ex.enabled()
        tid = max(enabled, key=prio.__getitem__)
        low = self.change.get(ex.steps + 1)
        if low is not None:
            prio[tid] = low
            tid = max(enabled, key=prio.__getitem__)
        return tid, self.outcome_of(ex, tid)

    def leaf(self, ex: Execution, path: Path[Alternatives]) -> bool:
        """Count the run; its length widens the range of later change points."""
        self.k = max(self.k, ex.steps)
        return super().leaf(ex, path)
