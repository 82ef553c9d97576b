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
from ctxcheck.explorers.naive import check_replay
from ctxcheck.runtime import Execution

Choice = tuple[int, int]


class _Node:
    __slots__ = ("alts", "idx", "sig")

    def __init__(self, alts: list[Choice], sig: tuple[str, int]) -> None:
        self.alts = alts
        self.idx = 0
        self.sig: tuple[str, int] | None = sig


class BoundedExplorer(Explorer):
    """Iterative preemption bounding: 0, 1, ... K preemptions."""

    name = "bounded"

    #: the preemptions every schedule of the current round has
    round = 0

    def search(self) -> bool:
        self.round = 0
        self._round_of: dict[str, int] = {}
        limit = self.budget.max_preemptions
        todo: list[Schedule] = [[]]
        while True:
            filed: list[Schedule] = []
            for prefix in todo:
                if not self._explore(prefix, filed):
                    return False
            if not filed:
                return True
            if limit is not None and self.round >= limit:
                self.stopped = f"max_preemptions={limit}"
                return False
            self.round += 1
            todo = filed

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

    def _explore(self, schedule: Schedule, filed: list[Schedule]) -> bool:
        """Depth-first search below ``schedule``, taking no further preemption.

        Every prefix of round ``r`` holds exactly ``r`` preemptions, the last
        one being its final step; a preemption met below it is filed for
        round ``r + 1``.
        """
        stack: list[_Node] = []
        while True:
            ex = self.execution()
            ex.replay(schedule)
            last = schedule[-1][0] if schedule else None
            for depth, node in enumerate(stack):
                tid, branch = node.alts[node.idx]
                node.sig = check_replay(ex, tid, node.sig, len(schedule) + depth)
                ex.step(tid, branch)
                last = tid
            while not ex.finished:
                alts = self._allowed(ex, last, filed)
                tid, branch = alts[0]
                stack.append(_Node(alts, ex.signature(tid)))
                ex.step(tid, branch)
                last = tid
            self.finish(ex)
            while stack and stack[-1].idx + 1 >= len(stack[-1].alts):
                stack.pop()
            if not stack:
                return True
            if self.out_of_budget():
                return False
            stack[-1].idx += 1
            stack[-1].sig = None

    @staticmethod
    def _allowed(ex: Execution, last: int | None, filed: list[Schedule]) -> list[Choice]:
        """Choices that are no preemption; file the others for the next round."""
        alts = ex.choices(last)
        if last is None or last not in ex.enabled():
            return alts
        for choice in alts:
            if choice[0] != last:
                filed.append([*ex.schedule, choice])
        return [c for c in alts if c[0] == last]
