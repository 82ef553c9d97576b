"""``dpor``: source-DPOR with sleep sets (Abdulla et al., POPL 2014).

Explores at least one execution per Mazurkiewicz trace (equivalence class of
executions that differ only in the order of independent steps), and usually
exactly one. Independence comes from the footprints the operations declare:
two steps of different threads are dependent when they touch one object and
one of them writes (or both take the same lock).

How it works, in the terms of the paper:

* the happens-before relation of the current execution is tracked with
  vector clocks built from the footprints (program order, conflicts,
  lock release -> acquire, thread spawn, waiting for a thread);
* when a new step ``e2`` of thread ``p`` is in a *race* with an earlier step
  ``e1`` (dependent, different threads, and not ordered through anything
  else), the explorer computes ``v``, the steps after ``e1`` that do not
  depend on it followed by ``e2``, and makes sure one of the *initials* of
  ``v`` is in the backtrack set of the state before ``e1``;
* sleep sets stop a thread that was already explored from a state from
  being explored again until something dependent on it happens. A run in
  which every enabled thread is asleep is cut, and counted as ``blocked``.

Nondeterministic choices (``k.choose``, a ``kmalloc`` that may fail) are
always explored with all their outcomes, like a thread with several steps.

Two dependences the footprints do not show are added (see
:mod:`ctxcheck.explorers.deps`): with invariants, writing steps are all
dependent (an invariant observes the states between them); and a step that
ends the execution with a violation is dependent with every step: each
thread that could have moved instead is put in the backtrack set, and a
thread whose step was a violation never sleeps.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctxcheck.explorers.base import Explorer, tree_fraction
from ctxcheck.explorers.deps import (
    ERROR_FOOTPRINT,
    dependent,
    disabled_by,
    has_invariants,
    step_footprint,
    stops_others,
)
from ctxcheck.explorers.happens_before import Trace, normalise
from ctxcheck.explorers.path import Branch, Path, check_step
from ctxcheck.primitives.base import Footprint
from ctxcheck.runtime import Execution

#: the thread of a node from which nothing is left to explore (a final state)
NONE = -1


class _Node(Branch):
    """A state of the current execution and what is left to explore from it."""

    __slots__ = ("backtrack", "born", "done", "enabled", "errors", "fps", "nbranches", "sleep")

    def __init__(self, enabled: list[int], fps: dict[int, Footprint],
                 sleep: dict[int, Footprint]) -> None:  # fmt: skip
        self.tid = NONE  # Branch's fields, set here: a node is made for every step
        self.branch = 0
        self.sig = None
        self.enabled = enabled
        self.fps = fps
        self.backtrack: set[int] = set()
        self.done: set[int] = set()
        self.sleep = sleep
        self.nbranches = 1
        #: threads whose step from here ended the run with a violation
        self.errors: set[int] = set()
        #: (executions, blocked) the search had finished when this state was reached:
        #: every run counted after that is below it
        self.born = (0, 0)

    def slept(self, tid: int) -> Footprint:
        """The footprint ``tid`` sleeps with once explored from this node."""
        return ERROR_FOOTPRINT if tid in self.errors else self.fps[tid]


#: a race that asks for a thread at a state above the subtree being explored:
#: (depth of that state, initials of the reversing sequence, the racing thread)
Request = tuple[int, tuple[int, ...], int]


class DporExplorer(Explorer):
    """Source-DPOR with sleep sets.

    :meth:`explore` runs it below any state, not only the initial one: a
    parallel search (:mod:`ctxcheck.parallel`) hands out the subtrees below
    a depth, each explored here with the sleep set its state has, and the
    races that ask for a thread above it are collected, not acted on.
    """

    name = "dpor"
    #: races aimed above the subtree (see :meth:`explore`), in the order found
    requests: list[Request]

    def search(self) -> bool:
        return self.explore([], {})

    def explore(
        self,
        prefix: list[tuple[int, int]],
        asleep: Mapping[int, bool],
        sigs: list[tuple[str, int] | None] | None = None,
    ) -> bool:
        """DPOR below the state ``prefix`` reaches, with threads ``asleep`` there.

        ``asleep`` maps each sleeping thread to whether its step from an
        ancestor ended the run with a violation (it then sleeps dependent
        with everything); the others sleep with the footprint of their
        pending step. The steps of the prefix are replayed (checked against
        ``sigs`` where given) into the happens-before record, so that races
        of the subtree with them are seen; a race that asks for a thread at
        one of their states is noted in :attr:`requests`, for whoever owns
        that state. A subclass may raise the floor (``_floor``) while it
        runs, between runs (:meth:`between_runs`): the states above it have
        then been handed to another owner, and races aimed at them are
        requests too.
        """
        trace = Trace()
        self._visible = has_invariants(self.model)
        self.requests = []
        path: Path[_Node] = Path(self.execution)
        self._path = path
        nodes = path.nodes
        ex = self._replay_prefix(path, trace, prefix, sigs or [None] * len(prefix))
        self._floor = len(prefix)
        last = prefix[-1][0] if prefix else None
        sleep = {
            q: ERROR_FOOTPRINT if failed else step_footprint(ex, q, self._visible, names=False)
            for q, failed in asleep.items()
            if q in ex.enabled()
        }
        nodes.append(self._new_node(ex, sleep, last))
        while True:
            blocked = self._extend(ex, path, trace)
            self.finish(ex, blocked=blocked)
            if not self._backtrack(nodes, self._floor):
                return True
            if self.out_of_budget():
                return False
            self.between_runs()
            trace.truncate(len(nodes) - 1)
            ex = path.replay(len(nodes) - 1)

    def between_runs(self) -> None:
        """Called where a run has ended and the next choice is taken but not run.

        The search is then described by its path alone (each node's choice
        and backtrack set), which is when a job of a split search can hand
        part of it away (:mod:`ctxcheck.parallel.handoff`); nothing here.
        """

    def _replay_prefix(
        self,
        path: Path[_Node],
        trace: Trace,
        prefix: list[tuple[int, int]],
        sigs: list[tuple[str, int] | None],
    ) -> Execution:
        """A fresh run through ``prefix``, each step noted in ``trace`` (its races were seen)."""
        ex = self.execution()
        ex.replaying = True
        for tid, branch in prefix:
            node = _Node([], {}, {})
            node.choose(tid, branch)
            node.sig = sigs[len(path.nodes)]
            path.nodes.append(node)
            fp = normalise(step_footprint(ex, tid, self._visible, names=False))
            nthreads = len(ex.machine.threads)
            node.sig = check_step(ex, tid, node.sig, len(path.nodes) - 1)
            ex.step(tid, branch)
            event, _ = trace.add(tid, fp)
            for idx in range(nthreads, len(ex.machine.threads)):
                trace.spawned(event, idx)
        ex.replaying = False
        return ex

    def done_fraction(self) -> float | None:
        """Knuth's estimate over the current path: explored threads of each backtrack set."""
        points = []
        for node in self._path.nodes[self._floor :]:
            children = len(node.backtrack | node.done) * max(node.nbranches, 1)
            done = len(node.done) * max(node.nbranches, 1) + node.branch
            points.append((done, children))
        return tree_fraction(points)

    def _new_node(self, ex: Execution, sleep: dict[int, Footprint], last: int | None) -> _Node:
        enabled = [] if ex.finished else list(ex.enabled())
        fps = {t: step_footprint(ex, t, self._visible, names=False) for t in enabled}
        asleep = {t: fp for t, fp in sleep.items() if t in fps} if sleep else {}
        node = _Node(enabled, fps, asleep)
        stats = self.stats
        node.born = (stats.executions, stats.blocked)
        awake = [t for t in enabled if t not in asleep] if asleep else enabled
        if awake:
            pick = last if last in awake else awake[0]
            node.backtrack.add(pick)
            node.tid = pick
        return node

    def _extend(
        self, ex: Execution, path: Path[_Node], trace: Trace, limit: int | None = None
    ) -> bool:
        """Run to the end from the last node; True if cut by sleep sets.

        With ``limit``, stop at the first new state at that depth (a state
        the caller hands on, see :mod:`ctxcheck.parallel`).
        """
        nodes = path.nodes
        while True:
            node = nodes[-1]
            if limit is not None and len(nodes) - 1 >= limit:
                return False
            if node.tid == NONE:
                return bool(node.enabled) and not ex.finished
            tid = node.tid
            node.nbranches = ex.branches(tid)
            fp = node.fps[tid]
            nthreads = len(ex.machine.threads)
            path.step(ex, node)
            stopped = ex.violation is not None and stops_others(self.model, ex.violation)
            if stopped:
                self._violation_races(node, tid)
            event, races = trace.add(tid, normalise(ERROR_FOOTPRINT if stopped else fp))
            if stopped:
                trace.also_touched(normalise(fp))
            for idx in range(nthreads, len(ex.machine.threads)):
                trace.spawned(event, idx)
            for i in races:
                self._ask(nodes, i, trace.initials(i, event), tid)
            self._disabling_races(ex, node, tid)
            if stopped:
                self._pending_races(ex, nodes, trace, tid)
            # the sleepers that stay asleep past this step (the explored
            # siblings join them); a later entry of one thread overrides
            sleep: dict[int, Footprint] = {}
            for q, qfp in node.sleep.items():
                if q != tid and not dependent(qfp, fp):
                    sleep[q] = qfp
            for q in node.done:
                if q != tid:
                    qfp = node.slept(q)
                    if not dependent(qfp, fp):
                        sleep[q] = qfp
            nodes.append(self._new_node(ex, sleep, tid))

    def _pending_races(self, ex: Execution, nodes: list[_Node], trace: Trace, tid: int) -> None:
        """Races of the steps the violation left pending (blocked ones too).

        In a run that ends normally every thread's step executes and its
        races are seen; a cut run must look at the steps that never ran.
        """
        for t in ex.machine.threads:
            if t.tid == tid or t.finished or t.pending is None:
                continue
            fp = normalise(step_footprint(ex, t.tid, self._visible, names=False))
            pending, races = trace.add(t.tid, fp, commit=False)
            for i in races:
                self._ask(nodes, i, trace.initials(i, pending), t.tid)

    @staticmethod
    def _disabling_races(ex: Execution, node: _Node, tid: int) -> None:
        """A step that disables a thread races with that thread's step
        (:func:`~ctxcheck.explorers.deps.disabled_by`): it is tried first, here."""
        node.backtrack.update(disabled_by(ex, node.enabled, tid))

    @staticmethod
    def _violation_races(node: _Node, tid: int) -> None:
        """The step of ``tid`` stopped the run: every other thread races with it."""
        for q in node.enabled:
            if q != tid and q not in node.sleep:
                node.backtrack.add(q)
        node.errors.add(tid)

    def _ask(self, nodes: list[_Node], i: int, initials: list[int], p: int) -> None:
        """Make sure a thread of ``initials`` is tried at state ``i`` (or ask its owner)."""
        if i < self._floor:
            self.requests.append((i, tuple(initials), p))
        else:
            self._add_backtrack(nodes[i], initials, p)

    @staticmethod
    def add_backtrack(node: _Node, initials: list[int] | tuple[int, ...], p: int) -> None:
        """Source-DPOR's rule: some initial of the reversing sequence is tried at ``node``."""
        DporExplorer._add_backtrack(node, list(initials), p)

    @staticmethod
    def _add_backtrack(node: _Node, initials: list[int], p: int) -> None:
        if node.backtrack.intersection(initials):
            return
        q = p if p in initials else initials[0]
        if q in node.fps:
            node.backtrack.add(q)
        else:
            node.backtrack.update(node.enabled)

    @staticmethod
    def _backtrack(nodes: list[_Node], floor: int = 0) -> bool:
        """Move to the next unexplored choice below ``floor``; False when there is none."""
        nodes.pop()  # the final state: nothing executed from it
        while len(nodes) > floor:
            node = nodes[-1]
            if node.branch + 1 < node.nbranches:
                node.choose(node.tid, node.branch + 1)
                return True
            node.done.add(node.tid)
            todo = node.backtrack - node.done  # mostly empty: one thread tried
            if todo:
                todo -= node.sleep.keys()
                if todo:
                    node.choose(min(todo), 0)
                    return True
            nodes.pop()
        return False
