"""``stateful``: depth-first search with state caching, sleep sets and symmetry.

An exhaustive explorer for proofs: it stores the fingerprint of every state
it expands (:mod:`ctxcheck.fingerprint`; under a declared symmetry the
fingerprint of the state's canonical image, :mod:`ctxcheck.symmetry`), so a
state reached again along another path is not explored again, and it prunes
with sleep sets, so that of two independent steps the second order is not
tried where the first already covers it.

How the two are combined (Godefroid, *Partial-Order Methods for the
Verification of Concurrent Systems*, 1996, ch. 6): each stored state keeps
the sleep set it was explored with. A state reached again with a sleep set
that contains the stored one needs nothing more; otherwise the threads of
the stored set that are awake now are explored from it, and the stored set
becomes the intersection. Sleep sets alone (no persistent sets) reach every
reachable state, so every invariant, every final property and every
deadlock is judged where a search without reduction would judge it. Under
symmetry a stored sleep set is kept in the canonical image's thread ids.

Unlike ``bfs``, which replays every state from the initial one for every
step out of it, the search runs one live execution down a path and
replays only when it backtracks, to the state it backtracks to (generators
cannot be copied). It stores 16 bytes of fingerprint and a small sleep set
per state, and the path; the counterexamples are the schedules it ran, so
they replay as they are, but they are not the shortest (``bfs`` gives those).

Statistics: ``executions`` counts the runs from the initial state (one per
leaf: an end state, a violation, a state already explored, or a state where
every enabled thread sleeps, which is also counted ``blocked``); ``states``
the distinct states stored; ``steps`` every step run, replays included;
``reduction`` says what was used. Like ``bfs``, states reached at different
depths merge: a path longer than ``--max-steps`` is reported as
``termination`` only along the path the search happened to take first.
"""

from __future__ import annotations

from ctxcheck.explorers.base import Explorer, tree_fraction
from ctxcheck.explorers.deps import dependent, has_invariants, step_footprint, stops_others
from ctxcheck.explorers.path import follow
from ctxcheck.fingerprint import fingerprint
from ctxcheck.primitives.base import Footprint
from ctxcheck.runtime import Execution
from ctxcheck.symmetry import Symmetry


class _Frame:
    """A state on the current path: what is left to explore from it."""

    __slots__ = ("branch", "done", "errors", "fps", "nbranches", "ntodo", "sleep", "tid", "todo")

    def __init__(self, todo: list[int], sleep: dict[int, Footprint],
                 fps: dict[int, Footprint]) -> None:  # fmt: skip
        self.todo = todo
        self.ntodo = len(todo)
        self.sleep = sleep
        self.fps = fps
        #: threads explored from here in this visit (they sleep for later siblings)
        self.done: list[int] = []
        #: threads whose step from here ended the run with a violation (they never sleep)
        self.errors: set[int] = set()
        self.tid = -1
        self.branch = 0
        self.nbranches = 0


class StatefulExplorer(Explorer):
    """Stateful depth-first search: state caching with sleep sets, and symmetry."""

    name = "stateful"
    knobs = ("symmetry",)
    #: use the model's declared symmetry (``spawn(..., symmetric=...)``)
    symmetry: bool = True

    def search(self) -> bool:
        self._visible = has_invariants(self.model)
        ex: Execution | None = self.execution()
        assert ex is not None
        self._sym = Symmetry.of(ex) if self.symmetry else None
        reduction = "state caching, sleep sets"
        if self._sym is not None:
            reduction += ", " + self._sym.describe()
        self.stats.reduction = reduction
        #: fingerprint -> the sleep set its state was explored with (canonical thread ids)
        self.table: dict[bytes, frozenset[int]] = {}
        self.stats.states = 0
        #: the distinct sleep sets stored, so that equal ones are one object
        self._sets: dict[frozenset[int], frozenset[int]] = {}
        #: fingerprints of the states a violation ended in
        self._bad: set[bytes] = set()
        self._frames: list[_Frame] = []
        frames = self._frames
        root = self._enter(ex, {})
        if root is None:
            self.finish(ex, blocked=self._blocked)
        else:
            frames.append(root)
        complete = self._walk(ex if root is not None else None)
        self.stats.states = len(self.table.keys() | self._bad)
        return complete

    def _walk(self, ex: Execution | None) -> bool:
        frames = self._frames
        while frames:
            if self.out_of_budget():
                return False
            top = frames[-1]
            if top.tid >= 0 and top.branch + 1 < top.nbranches:
                top.branch += 1
            else:
                if top.tid >= 0 and top.tid not in top.errors:
                    top.done.append(top.tid)
                if not top.todo:
                    frames.pop()
                    continue
                top.tid = top.todo.pop(0)
                top.branch = 0
                top.nbranches = 0
            if ex is None:
                ex = follow(self.execution, [(f.tid, f.branch) for f in frames[:-1]], known=True)
            if top.nbranches == 0:
                top.nbranches = ex.branches(top.tid)
            tid = top.tid
            fp = top.fps[tid]
            asleep = list(top.sleep.items()) + [(q, top.fps[q]) for q in top.done]
            ex.step(tid, top.branch)
            if ex.violation is not None and stops_others(self.model, ex.violation):
                top.errors.add(tid)
            sleep = {q: qfp for q, qfp in asleep if q != tid and not dependent(qfp, fp)}
            child = self._enter(ex, sleep)
            if child is None:
                self.finish(ex, blocked=self._blocked)
                ex = None
            else:
                frames.append(child)
        return True

    def _enter(self, ex: Execution, sleep: dict[int, Footprint]) -> _Frame | None:
        """A state reached: the frame to explore it from, or None (a leaf)."""
        self._blocked = False
        if self._sym is not None:
            key, perm = self._sym.canonical(ex)
        else:
            key, perm = fingerprint(ex), {}
        if ex.violation is not None:
            # counted, never stored: a step that failed half-way may leave a
            # state that reads like one still to be explored
            self._bad.add(key)
            return None
        canon = frozenset(perm.get(q, q) for q in sleep)
        canon = self._sets.setdefault(canon, canon)  # one object per distinct sleep set
        stored = self.table.get(key)
        enabled = [] if ex.finished else ex.enabled()
        if stored is None:
            self.table[key] = canon
            self.stats.states = len(self.table)
            todo = [t for t in enabled if t not in sleep]
        else:
            if stored <= canon:
                return None
            both = stored & canon
            self.table[key] = self._sets.setdefault(both, both)
            todo = [t for t in enabled if perm.get(t, t) in stored and t not in sleep]
        if not todo:
            self._blocked = bool(enabled) and stored is None
            return None
        fps = {t: step_footprint(ex, t, self._visible, names=False) for t in enabled}
        # a sleeping thread's step is the one it slept with; its visibility to
        # invariants may have grown since: take the footprint as it is now
        live = {q: fps[q] for q in sleep if q in fps}
        live.update({q: fp for q, fp in sleep.items() if q not in fps})
        return _Frame(todo, live, fps)

    def done_fraction(self) -> float | None:
        """Knuth's estimate over the current path: threads explored of each frame's."""
        points = []
        for f in self._frames:
            total = max(f.ntodo, 1) * max(f.nbranches, 1)
            done = (f.ntodo - len(f.todo) - 1) * max(f.nbranches, 1) + f.branch
            points.append((max(done, 0), total))
        return tree_fraction(points)
