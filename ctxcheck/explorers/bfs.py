"""``bfs``: stateful breadth-first search over fingerprinted states.

Why a stateful search: a stateless explorer re-runs every path, so a retry
loop that another thread can keep failing (a ``cmpxchg`` loop) makes the
tree infinite and only ``--max-steps`` cuts it. The *state graph* of such a
model is finite: the loop comes back to a state already seen. Storing a
fingerprint of each state (:mod:`ctxcheck.fingerprint`) turns the cycle into
a visited node and the search terminates.

Why breadth first: states are expanded in order of their distance from the
initial state, so the first execution that violates a property is a
shortest counterexample (fewest steps).

Generators cannot be copied, so a state is represented by the schedule that
reaches it and re-reached by replaying that schedule from the initial
state; only the fingerprints (16 bytes each) of visited states stay in
memory, plus the schedules of the frontier. ``stats.executions`` counts
these replays (one per edge of the state graph explored), ``stats.states``
the distinct states.
"""

from __future__ import annotations

from collections import deque

from ctxcheck.explorers.base import Explorer, Schedule
from ctxcheck.fingerprint import fingerprint
from ctxcheck.runtime import Execution


class BfsExplorer(Explorer):
    """Breadth-first search with state merging; shortest counterexamples."""

    name = "bfs"

    def search(self) -> bool:
        start = self.execution()
        visited = {fingerprint(start)}
        self.stats.states = 1
        if start.finished:
            self.finish(start)
            return True
        frontier: deque[Schedule] = deque([[]])
        while frontier:
            if self.out_of_budget():
                return False
            prefix = frontier.popleft()
            for child in self._successors(prefix):
                key = fingerprint(child)
                if key in visited:
                    continue
                visited.add(key)
                self.stats.states = len(visited)
                if not child.finished:
                    frontier.append(list(child.schedule))
        return True

    def _replay(self, schedule: Schedule) -> Execution:
        ex = self.execution()
        ex.replay(schedule)
        return ex

    def _successors(self, prefix: Schedule) -> list[Execution]:
        """Every state one step after the one ``prefix`` reaches (one replay each)."""
        parent = self._replay(prefix)
        choices = [(t, b) for t in parent.enabled() for b in range(parent.branches(t))]
        children = []
        for i, (tid, branch) in enumerate(choices):
            ex = parent if i == 0 else self._replay(prefix)
            ex.step(tid, branch)
            self.finish(ex)
            children.append(ex)
        return children
