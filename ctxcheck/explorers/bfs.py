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
memory, plus the schedules of the frontier, packed into 4 bytes a step (a
list of tuples costs some 64 bytes a step, and a breadth-first frontier can
hold a whole level of the graph). Successors are fingerprinted one at a
time, so a single execution is alive besides the parent's replay.
``stats.executions`` counts these replays (one per edge of the state graph
explored), ``stats.states`` the distinct states. BENCHMARKS.md gives the
measured memory per stored state.

Under a symmetry the model declares (``spawn(..., symmetric=...)``, see
:mod:`ctxcheck.symmetry`) a state is stored by the fingerprint of its
canonical image, so one state of each permutation class is expanded
(``symmetry=False`` turns it off). Symmetric states are as far from the
initial state as each other, so the counterexamples stay shortest; they are
the schedules run, concrete and replayable as they are.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterator

from ctxcheck.explorers.base import Explorer, Schedule
from ctxcheck.explorers.path import follow
from ctxcheck.fingerprint import fingerprint
from ctxcheck.runtime import Execution
from ctxcheck.symmetry import Symmetry


def pack(schedule: Schedule) -> bytes:
    """A schedule as 16-bit (thread, outcome) pairs: the frontier's form of a state."""
    return array("H", [x for step in schedule for x in step]).tobytes()


def unpack(packed: bytes) -> Schedule:
    """The schedule :func:`pack` packed."""
    flat = array("H")
    flat.frombytes(packed)
    return list(zip(flat[::2], flat[1::2], strict=True))


class BfsExplorer(Explorer):
    """Breadth-first search with state merging; shortest counterexamples."""

    name = "bfs"
    knobs = ("symmetry",)
    #: use the model's declared symmetry (``spawn(..., symmetric=...)``)
    symmetry: bool = True

    def search(self) -> bool:
        start = self.execution()
        sym = Symmetry.of(start) if self.symmetry else None
        if sym is not None:
            self.stats.reduction = sym.describe()
        self._key = fingerprint if sym is None else (lambda ex: sym.canonical(ex)[0])
        #: fingerprints of every state reached (kept as attributes so that
        #: their memory can be measured)
        self.visited = {self._key(start)}
        self.stats.states = 1
        if start.finished:
            self.finish(start)
            return True
        self.frontier: deque[bytes] = deque([pack([])])
        while self.frontier:
            if self.out_of_budget():
                return False
            prefix = unpack(self.frontier.popleft())
            for child in self._successors(prefix):
                key = self._key(child)
                if key in self.visited:
                    continue
                self.visited.add(key)
                self.stats.states = len(self.visited)
                if not child.finished:
                    self.frontier.append(pack(child.schedule))
        return True

    def _successors(self, prefix: Schedule) -> Iterator[Execution]:
        """Every state one step after the one ``prefix`` reaches (one replay each)."""
        parent = follow(self.execution, prefix, known=True)
        choices = parent.choices()
        for i, (tid, branch) in enumerate(choices):
            ex = parent if i == 0 else follow(self.execution, prefix, known=True)
            ex.step(tid, branch)
            self.finish(ex)
            yield ex
