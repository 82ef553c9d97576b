"""How big is a model's interleaving space? Its state graph, and the paths through it.

The ``naive`` explorer runs one execution per *maximal path* of the state
graph (from the initial state to a state where the run ends: every thread
done, a violation, a deadlock). On a faithful kernel model that number is
astronomically larger than the number of states, so naive cannot finish
where ``bfs`` (one replay per edge) does; this module counts it without
running it, so that a benchmark can say how far out of reach naive is, and
a test can check the count against naive where naive does finish.

The graph is walked depth first with memoisation on state fingerprints
(:mod:`ctxcheck.fingerprint`): the number of paths from a state is the sum
over its successors, 1 at a state where the run ends. A successor that is
still on the walk's stack closes a cycle (a retry loop another thread can
keep failing): naive's paths are then bounded only by ``max_steps``, and the
count is reported as unbounded. Like ``bfs``, a state is re-reached by
replaying its schedule, once per edge.

The walk follows every transition of the full interleaving semantics, so
the properties it sees violated are the verdict of an unreduced search
(what naive would report, but for ``termination``, which is about the
length of a path: a cycle is reported as unbounded paths instead).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ctxcheck.explorers.path import follow
from ctxcheck.fingerprint import fingerprint
from ctxcheck.model import Config, Model
from ctxcheck.runtime import Execution, SearchState

Schedule = list[tuple[int, int]]


@dataclass(frozen=True)
class StateSpace:
    """The counted state graph of one (model, config)."""

    #: distinct states reached where the run goes on (the ends of paths are not stored)
    states: int
    #: transitions followed (one replay each)
    edges: int
    #: maximal paths: the executions naive runs; None when a cycle makes them unbounded
    paths: int | None
    #: False when the walk was cut by its time limit (then the counts are partial)
    complete: bool
    seconds: float
    #: the properties some path violates (the verdict of an unreduced search)
    violated: frozenset[str] = frozenset()


class _Frame:
    """A state on the walk's stack: its schedule, successors left, paths so far."""

    __slots__ = ("key", "schedule", "todo", "total")

    def __init__(self, key: bytes, schedule: Schedule, todo: list[tuple[int, int]]) -> None:
        self.key = key
        self.schedule = schedule
        self.todo = todo
        self.total = 0


class _Walk:
    """The depth-first walk of one state graph, with what it has counted so far."""

    def __init__(self, model: Model, config: Config) -> None:
        self.model = model
        self.config = config
        #: one search: the same object ids (and so fingerprints) in every replay
        self.search = SearchState(model, config)
        #: paths from each state left behind (the walk is done with it)
        self.memo: dict[bytes, int] = {}
        self.stack: list[_Frame] = []
        self.on_stack: set[bytes] = set()
        self.edges = 0
        self.cyclic = False
        self.violated: set[str] = set()

    def push(self, ex: Execution, schedule: Schedule) -> None:
        frame = _Frame(fingerprint(ex), schedule, ex.choices())
        self.stack.append(frame)
        self.on_stack.add(frame.key)

    def pop(self) -> int:
        """Leave the top state: every path from it is counted."""
        top = self.stack.pop()
        self.on_stack.discard(top.key)
        self.memo[top.key] = top.total
        if self.stack:
            self.stack[-1].total += top.total
        return top.total

    def follow(self, top: _Frame, choice: tuple[int, int]) -> None:
        """Take one transition out of ``top`` (replaying its schedule first)."""
        child = follow(self.search.execution, top.schedule, known=True)
        child.step(*choice)
        self.edges += 1
        if child.finished:
            # the run ends here: one path (a violating step may leave memory
            # as it was, so its state must not be merged with the one before)
            top.total += 1
            if child.violation is not None:
                self.violated.add(child.violation.prop)
            return
        key = fingerprint(child)
        if key in self.on_stack:
            self.cyclic = True
        elif key in self.memo:
            top.total += self.memo[key]
        else:
            self.push(child, [*top.schedule, choice])


def count_paths(model: Model, config: Config, timeout: float | None = None) -> StateSpace:
    """Walk the state graph of ``model`` under ``config``; count states, edges, paths."""
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    walk = _Walk(model, config)
    root = walk.search.execution()
    if root.finished:
        found = frozenset([root.violation.prop] if root.violation else [])
        return StateSpace(0, 0, 1, True, time.monotonic() - start, found)
    walk.push(root, [])
    paths = 0
    while walk.stack:
        if deadline is not None and time.monotonic() >= deadline:
            states = len(walk.memo) + len(walk.stack)
            seconds = time.monotonic() - start
            return StateSpace(states, walk.edges, None, False, seconds, frozenset(walk.violated))
        top = walk.stack[-1]
        if top.todo:
            walk.follow(top, top.todo.pop())
        else:
            paths = walk.pop()
    seconds = time.monotonic() - start
    total = None if walk.cyclic else paths
    return StateSpace(len(walk.memo), walk.edges, total, True, seconds, frozenset(walk.violated))
