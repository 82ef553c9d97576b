"""``bounded``: preemption-bounded search, fewest context switches first.

Most concurrency bugs need very few preemptions (a thread switched away
while it could have gone on). This explorer runs every schedule with 0
preemptions, then every schedule with exactly 1, then 2, ... up to
``--max-preemptions K`` (Musuvathi and Qadeer, PLDI 2007). Each schedule is
run exactly once: when a depth-first search at bound ``b`` meets a choice
that would be preemption ``b + 1``, it does not take it but files the
prefix ending with it for round ``b + 1``.

The first counterexample found for a property therefore has the fewest
preemptions any counterexample has, and the one reported is the shortest
among those. When round ``K`` ends with prefixes still filed, the search was
complete only up to ``K`` preemptions: the outcome is not exhaustive and
says so (``stopped: max_preemptions=K``). Without a bound the rounds go on
until nothing is filed, which is a complete search.
"""

from __future__ import annotations

from ctxcheck.explorers.base import Explorer, Schedule
from ctxcheck.explorers.path import Alternatives, Path, depth_first
from ctxcheck.runtime import Execution


class BoundedExplorer(Explorer):
    """Iterative preemption bounding: 0, 1, ... K preemptions."""

    name = "bounded"
    preemption_bound = True

    #: the preemptions every schedule of the current round has
    round = 0

    def search(self) -> bool:
        self.round = 0
        self._round_of: dict[str, int] = {}
        limit = self.bounds.max_preemptions
        todo: list[Schedule] = [[]]
        while True:
            self._filed: list[Schedule] = []
            for prefix in todo:
                path = Path(self.execution, [Alternatives([choice]) for choice in prefix])
                # the prefix's last step is the preemption filed: a state never judged
                if not depth_first(path, self, known=max(0, len(prefix) - 1)):
                    return False
            if not self._filed:
                return True
            if limit is not None and self.round >= limit:
                self.stopped = f"max_preemptions={limit}"
                return False
            self.round += 1
            todo = self._filed

    def finish(self, ex: Execution, blocked: bool = False) -> None:
        """Keep, per property, a counterexample of the earliest round."""
        found = ex.violation
        if found is not None and self._round_of.get(found.prop, self.round) < self.round:
            kept = self.discoveries[found.prop]
            super().finish(ex, blocked)
            self.discoveries[found.prop] = kept
            return
        super().finish(ex, blocked)
        if found is not None:
            self._round_of.setdefault(found.prop, self.round)

    # -- the chooser: depth first below a prefix, taking no further preemption
    def branch_point(self, ex: Execution, path: Path[Alternatives]) -> Alternatives | None:
        """Choices that are no preemption; the others are filed for the next round.

        Every prefix of round ``r`` holds exactly ``r`` preemptions, the last
        one being its final step; a preemption met below it is filed for
        round ``r + 1``.
        """
        if ex.finished:
            return None
        alts = ex.choices(ex.last_tid)
        if not any(ex.is_preemption(tid) for tid, _ in alts):
            return Alternatives(alts)
        for choice in alts:
            if ex.is_preemption(choice[0]):
                self._filed.append([*ex.schedule, choice])
        return Alternatives([c for c in alts if not ex.is_preemption(c[0])])

    def leaf(self, ex: Execution, path: Path[Alternatives]) -> bool:
        """Count the run and keep its counterexample if it is of the earliest round."""
        self.finish(ex)
        return True

    def resume(self, path: Path[Alternatives]) -> bool:
        """Go on unless a budget has run out."""
        return not self.out_of_budget()
