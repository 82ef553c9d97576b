"""``odpor``: optimal DPOR with wakeup trees (Abdulla et al., JACM 2017).

Source-DPOR (``dpor``) explores at least one execution per Mazurkiewicz
trace; when a race asks for a thread to be tried earlier it only remembers
*which thread*, and the run it starts may wander into a trace already
covered, where sleep sets cut it (``blocked``). Optimal DPOR remembers the
whole sequence ``v`` that reverses the race, in a *wakeup tree* per state,
and follows it; with sleep sets this explores exactly one execution per
trace and none is ever blocked.

In the paper's terms, for every race ``e < e'`` of an execution ``E``, with
``E' = pre(E, e)`` and ``v = notdep(e, E).e'``: if no thread asleep at
``E'`` is a weak initial of ``v``, ``v`` is inserted into ``wut(E')``
(at the leftmost node ``u`` with ``u ~ v``, unless ``u`` is a leaf). A
state explores the subtrees of its wakeup tree from the left, each with the
sleep set of its parent minus what the step depends on, then puts the
thread to sleep.

How the engine's features fit the theory:

* events are steps of a thread *with their outcome*: the outcomes of a
  ``k.choose`` or failing ``kmalloc`` are different events of one thread;
  when one is taken the others are inserted into the state's wakeup tree;
* dependence is the one :mod:`ctxcheck.explorers.deps` defines (footprints,
  invariants, the order of spawns, violations); a thread's steps come after
  the step that spawned it;
* races come from :class:`~ctxcheck.explorers.happens_before.Trace`, which already
  treats locks right: two acquisitions of a lock race even though the
  release orders them, a release never races with the next acquisition;
* a run cut by a violation also races its pending steps (blocked ones too)
  with what came before, and every other thread that could have moved with
  the violating step;
* a step that disables another thread (IRQs off, an interrupt entering, a
  context switch) races with that thread's step, offered at the state
  before it; a wakeup-tree step found disabled all the same (a race that
  could not be reversed there) is dropped, and the state goes on with the
  rest of its tree. On models with CPUs and interrupts this can cost
  sleep-set-blocked executions; on programs without them none is seen.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxcheck.explorers.base import Explorer
from ctxcheck.explorers.deps import (
    ERROR_FOOTPRINT,
    dependent,
    disabled_by,
    has_invariants,
    step_footprint,
    stops_others,
)
from ctxcheck.explorers.happens_before import Trace, happens_before, normalise
from ctxcheck.explorers.path import Branch, Path
from ctxcheck.primitives.base import Footprint
from ctxcheck.runtime import Execution

Key = tuple[int, int]


class _Ev:
    """A step: thread, outcome, footprint, and the threads it spawned."""

    __slots__ = ("branch", "fp", "spawns", "tid")

    def __init__(self, tid: int, branch: int, fp: Footprint, spawns: tuple[int, ...] = ()):
        self.tid = tid
        self.branch = branch
        self.fp = fp
        self.spawns = spawns


def _dep(a: _Ev, b: _Ev) -> bool:
    """``a`` before ``b`` orders them (program order, spawn, conflict)."""
    return a.tid == b.tid or b.tid in a.spawns or dependent(a.fp, b.fp)


def _initial(w: list[_Ev], ev: _Ev) -> int | None:
    """Index of ``ev`` in ``w`` if it is an initial of ``w``; -1 if its thread is absent.

    None when the thread's first step in ``w`` is another outcome or comes
    after a step of ``w`` it depends on.
    """
    for k, x in enumerate(w):
        if x.tid != ev.tid:
            continue
        if x.branch != ev.branch:
            return None
        reach = [False] * k
        for j in range(k - 1, -1, -1):
            reach[j] = _dep(w[j], x) or any(reach[m] and _dep(w[j], w[m]) for m in range(j + 1, k))
            if reach[j]:
                return None
        return k
    return -1


def _weak_initial(ev: _Ev, w: list[_Ev]) -> bool:
    """``ev`` is an initial of ``w`` or independent of all of it (``ev ~ w``)."""
    k = _initial(w, ev)
    return k is not None and (k >= 0 or not any(_dep(ev, x) for x in w))


def _remainder(u: list[_Ev], w: list[_Ev]) -> list[_Ev] | None:
    """The shortest ``w'`` with ``w`` a weak prefix of ``u.w'``; None if ``u`` is not compatible."""
    rest = list(w)
    for ev in u:
        k = _initial(rest, ev)
        if k is None:
            return None
        if k >= 0:
            del rest[k]
        elif any(_dep(ev, x) for x in rest):
            return None
    return rest


class _WNode:
    """A node of a wakeup tree: the step leading to it and the ordered children."""

    __slots__ = ("children", "ev")

    def __init__(self, ev: _Ev | None) -> None:
        self.ev = ev
        self.children: list[_WNode] = []


def _postorder(node: _WNode, path: list[_Ev]) -> Iterator[tuple[_WNode, list[_Ev]]]:
    for child in list(node.children):
        assert child.ev is not None
        yield from _postorder(child, [*path, child.ev])
    yield node, path


def _insert(root: _WNode, v: list[_Ev]) -> None:
    """``insert(v, wut)``: below the leftmost compatible node, unless it is a leaf."""
    for node, path in _postorder(root, []):
        rest = _remainder(path, v)
        if rest is None:
            continue
        if node is root or node.children:
            for ev in rest:
                child = _WNode(ev)
                node.children.append(child)
                node = child
        return


class _State(Branch):
    """A state of the current execution: sleep set, wakeup tree, step taken.

    As a branch point of the path, its choice is that of :attr:`current`.
    """

    __slots__ = ("current", "enabled", "errors", "fps", "nbranches", "sleep", "wut")

    def __init__(self, ex: Execution, visible: bool, sleep: dict[Key, Footprint]) -> None:
        super().__init__(-1)
        self.enabled = [] if ex.finished else list(ex.enabled())
        self.fps = {t: step_footprint(ex, t, visible) for t in self.enabled}
        self.nbranches = {t: ex.branches(t) for t in self.enabled}
        self.sleep = {k: fp for k, fp in sleep.items() if k[0] in self.fps}
        self.wut = _WNode(None)
        self.current: _WNode | None = None
        #: steps from here that ended the run with a violation
        self.errors: set[Key] = set()

    def offer(self, v: list[_Ev]) -> None:
        """Insert ``v`` unless a sleeping step is a weak initial of it."""
        for (tid, branch), fp in self.sleep.items():
            if _weak_initial(_Ev(tid, branch, fp), v):
                return
        _insert(self.wut, v)

    def fresh(self, last: int | None) -> _Ev | None:
        """Any step not asleep, the last mover's first (fewer preemptions)."""
        awake = [
            (t, b)
            for t in self.enabled
            for b in range(self.nbranches[t])
            if (t, b) not in self.sleep
        ]
        if not awake:
            return None
        tid, branch = next((k for k in awake if k[0] == last), awake[0])
        return _Ev(tid, branch, self.fps[tid])


class OdporExplorer(Explorer):
    """Optimal DPOR: one execution per Mazurkiewicz trace, none blocked."""

    name = "odpor"

    def search(self) -> bool:
        self._visible = has_invariants(self.model)
        self._trace = Trace()
        self._evs: list[_Ev] = []
        path: Path[_State] = Path(self.execution)
        ex = self.execution()
        states = self._states = path.nodes
        states.append(_State(ex, self._visible, {}))
        while True:
            blocked = self._extend(ex, path)
            self.finish(ex, blocked=blocked)
            if not self._backtrack(states):
                return True
            if self.out_of_budget():
                return False
            depth = len(states) - 1
            self._trace.truncate(depth)
            del self._evs[depth:]
            ex = path.replay(depth)

    def _extend(self, ex: Execution, path: Path[_State]) -> bool:
        """Run to the end following the wakeup trees; True if sleep sets cut it."""
        states = path.nodes
        last: int | None = None if not self._evs else self._evs[-1].tid
        while not ex.finished:
            st = states[-1]
            if not st.wut.children:
                pick = st.fresh(last)
                if pick is None:
                    return True
                st.wut.children.append(_WNode(pick))
            child = st.wut.children[0]
            assert child.ev is not None
            if child.ev.tid not in st.fps:
                # a race that cannot be reversed here (the step waits for a
                # lock, a CPU, a thread): nothing to explore down this branch
                st.wut.children.pop(0)
                continue
            st.current = child
            st.choose(child.ev.tid, child.ev.branch)
            ev = self._step(ex, path, st, child)
            sleep = {
                k: fp for k, fp in st.sleep.items() if k[0] != ev.tid and not dependent(fp, ev.fp)
            }
            nxt = _State(ex, self._visible, sleep)
            nxt.wut.children, child.children = child.children, []
            states.append(nxt)
            last = ev.tid
        return False

    def _step(self, ex: Execution, path: Path[_State], st: _State, node: _WNode) -> _Ev:
        """Take one step, record it and insert the reversal of each of its races."""
        assert node.ev is not None
        tid, branch = node.ev.tid, node.ev.branch
        fp = st.fps[tid]
        nthreads = len(ex.machine.threads)
        path.step(ex, st)
        spawns = tuple(range(nthreads, len(ex.machine.threads)))
        stopped = stops_others(self.model, ex.violation)
        ev = node.ev = _Ev(tid, branch, ERROR_FOOTPRINT if stopped else fp, spawns)
        conflicts = set(self._trace.add(tid, normalise(fp), commit=False)[1]) if stopped else set()
        event, races = self._trace.add(tid, normalise(ev.fp))
        if stopped:
            self._trace.also_touched(normalise(fp))
        for child in spawns:
            self._trace.spawned(event, child)
        self._evs.append(ev)
        for other in range(st.nbranches[tid]):
            if other != branch:
                st.offer([_Ev(tid, other, fp)])
        depth = len(self._evs) - 1
        # moved before a step it conflicts with, a failing step reads other
        # values and may well not fail there: offer it with its own footprint;
        # moved before a step it races with only by failing, it fails again
        moved = _Ev(tid, branch, fp, spawns)
        for i in races:
            self._states_offer(i, depth, moved if not stopped or i in conflicts else ev)
        if stopped:
            st.errors.add((tid, branch))
            self._cut_races(ex, st, ev, fp)
        else:
            self._disabling_races(ex, st, tid)
        return ev

    @staticmethod
    def _disabling_races(ex: Execution, st: _State, tid: int) -> None:
        """A step that stops another thread from moving races with its step
        (:func:`~ctxcheck.explorers.deps.disabled_by`): the step is offered here."""
        for q in disabled_by(ex, st.enabled, tid):
            for b in range(st.nbranches[q]):
                st.offer([_Ev(q, b, st.fps[q])])

    def _states_offer(self, i: int, end: int, last: _Ev) -> None:
        """Offer ``notdep(e_i, E).last`` to the state before event ``i``.

        ``last`` comes with the footprint it had where it ran, after ``e_i``.
        A footprint can depend on the state (``list_del`` writes the
        neighbours it finds), and ``last`` conflicts with ``e_i``, so moved
        before it, it may touch other objects. When ``last`` is its thread's
        next step at that state, the state knows its real footprint: take
        it. A stale one makes wakeup-tree nodes look incompatible (or
        compatible) when they are not, and a trace goes missing: the
        program ``list_add e0 | list_del e0 | list_add e1 | list_empty``
        has 18 traces, of which 17 were explored.
        """
        events = self._trace.events
        e1 = events[i]
        v = [self._evs[j] for j in range(i + 1, end) if not happens_before(e1, events[j].clock)]
        st = self._states[i]
        if last.fp != ERROR_FOOTPRINT and last.tid in st.fps and all(x.tid != last.tid for x in v):
            last = _Ev(last.tid, last.branch, st.fps[last.tid], last.spawns)
        v.append(last)
        st.offer(v)

    def _cut_races(self, ex: Execution, st: _State, failed: _Ev, raw: Footprint) -> None:
        """A violation cut the run: race it with the steps it left pending.

        Each thread that could have moved instead is offered in its place; a
        step that does not conflict with the failing one leaves it failing
        afterwards, so the offered sequence ends with the failure, which is
        what tells it apart from traces already explored (the failure depends
        on every step). A pending step (blocked ones too) is also raced with
        what came before it, as it would have been had it run.
        """
        end = len(self._evs) - 1
        for t in ex.machine.threads:
            if t.tid == failed.tid or t.finished or t.pending is None:
                continue
            fp = step_footprint(ex, t.tid, self._visible)
            tail = [] if dependent(fp, raw) else [failed]
            if t.tid in st.fps:
                for b in range(st.nbranches[t.tid]):
                    st.offer([_Ev(t.tid, b, fp), *tail])
            _, races = self._trace.add(t.tid, normalise(fp), commit=False)
            for i in races:
                self._states_offer(i, end, _Ev(t.tid, 0, fp))

    @staticmethod
    def _backtrack(states: list[_State]) -> bool:
        """Put the explored step to sleep; move to the next wakeup-tree subtree."""
        states.pop()  # the final state: nothing executed from it
        while states:
            st = states[-1]
            cur = st.current
            assert cur is not None and cur.ev is not None
            key = (cur.ev.tid, cur.ev.branch)
            st.sleep[key] = ERROR_FOOTPRINT if key in st.errors else st.fps[cur.ev.tid]
            st.wut.children.remove(cur)
            st.current = None
            st.choose(-1, 0)
            if st.wut.children:
                return True
            states.pop()
        return False
