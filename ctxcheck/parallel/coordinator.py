"""The coordinator of a split search: the top of the dpor tree, and the jobs below it.

Source-DPOR explores a tree of states depth first; what it must still try at
a state (its backtrack set) grows as races are found below it. A split
search keeps the top of that tree, every state above a *split depth*, in
the coordinator, which explores it exactly as ``dpor`` does, with one
difference: when a run reaches a new state at the split depth, the state is
handed out as a :class:`~ctxcheck.parallel.job.Job` and the coordinator goes
on with its next choice at once. A job explores its state's whole subtree
with the sleep set the state has. When it comes back, its races that ask for
a thread above it are added to the coordinator's states, which may open new
choices there, and so new jobs. A state of the coordinator is never dropped
while a job below it is out. A running job may also hand the top of its
subtree back (:mod:`ctxcheck.parallel.handoff`) when a worker is idle: its
states join the tree below the job's own, and are the coordinator's from
then on.

Why this explores what one ``dpor`` process would: each subtree is explored
with the sleep set it would have in a single search in which the choices
handed out before it had been explored first (a choice is marked done when
it is handed out, not when its job returns), and every race is acted on,
by the job or by the coordinator. Without invariants that makes the
execution count exactly one process's (one per trace; the sleep-set-blocked
runs depend on the order). With invariants, which writes are dependent is
learnt as invariants read objects, and the split learns in another order
(each job starts from what the coordinator knows then): the count may then
differ a little from one process's, as it does in one process given what a
whole search read at its start. No subtree is explored twice, so
``stats.redundant`` is 0 unless a worker died and its job was run again
(then it counts the executions that job had reported and its rerun ran
again; a dead worker's unreported runs were never counted).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Protocol

from ctxcheck.explorers.base import Discovery
from ctxcheck.explorers.deps import ERROR_FOOTPRINT, has_invariants, step_footprint
from ctxcheck.explorers.dpor import NONE, DporExplorer, _Node
from ctxcheck.explorers.happens_before import Trace, normalise
from ctxcheck.explorers.path import Path, check_step
from ctxcheck.parallel.handoff import Handoff, asleep_of
from ctxcheck.parallel.job import Donation, Given, Job, JobResult, stable_sig
from ctxcheck.runtime import Execution

#: seconds to wait for a job asked for work to answer (its worker may have died)
ASK_PATIENCE = 2.0
#: seconds before a job that had nothing to give is asked again
REFUSED_PAUSE = 0.1


class _State(_Node):
    """A state of the top of the tree: a dpor node that knows its place."""

    __slots__ = ("children", "depth", "edge", "edge_sig", "explored", "nb", "out", "parent")

    def __init__(self, node: _Node, parent: _State | None, edge: tuple[int, int] | None) -> None:
        super().__init__(node.enabled, node.fps, node.sleep)
        for name in ("backtrack", "done", "errors", "nbranches", "tid", "branch", "sig"):
            setattr(self, name, getattr(node, name))
        self.parent = parent
        self.edge = edge
        self.edge_sig: tuple[str, int] | None = None
        self.depth: int = 0 if parent is None else parent.depth + 1
        self.children: dict[tuple[int, int], _State] = {}
        #: choices handed out (explored) from here
        self.explored: set[tuple[int, int]] = set()
        #: outcomes of each thread's step from here, once it was taken
        self.nb: dict[int, int] = {}
        #: jobs under way below this state
        self.out = 0

    def choices(self) -> list[tuple[int, int]]:
        """What is still to be tried from here, in dpor's order."""
        todo = []
        for t in sorted(self.backtrack - self.sleep.keys() - self.done):
            for b in range(self.nb.get(t, 1)):
                if (t, b) not in self.explored:
                    todo.append((t, b))
        return todo

    def mark(self, choice: tuple[int, int]) -> None:
        """``choice`` is handed out; a thread all of whose outcomes are is done."""
        self.explored.add(choice)
        t = choice[0]
        if all((t, b) in self.explored for b in range(self.nb.get(t, 1))):
            self.done.add(t)

    def path(self) -> list[_State]:
        """The states from the root to here."""
        out: list[_State] = []
        node: _State | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]


@dataclass
class Pending:
    """A job under way: the states above it, for its requests, and the choices to them.

    A job that hands work back (:mod:`ctxcheck.parallel.handoff`) owns less
    from then on: ``path`` and ``prefix`` grow by the states it gave.
    """

    job: Job
    path: list[_State]
    prefix: list[tuple[int, int]]
    started: float = field(default_factory=time.monotonic)


class Backend(Protocol):
    """What runs the jobs: :class:`~ctxcheck.parallel.pool.LocalPool` or the Dask one."""

    def submit(self, job: Job) -> None:
        """Run ``job`` on some worker."""

    def collect(self, timeout: float | None) -> list[JobResult | Donation]:
        """What came back within ``timeout`` seconds (None: wait for something)."""

    def idle(self) -> int:
        """Workers with nothing to do (0: no job is asked for work)."""

    def split(self, number: int) -> None:
        """Ask job ``number`` to hand part of its subtree back."""


class Coordinator(DporExplorer):
    """The top of a split dpor search (see the module docstring).

    ``submit`` hands a job to the workers; ``collect`` returns the results
    that came back (waiting up to ``wait`` seconds for one when asked to).
    """

    name = "dpor"

    def configure(
        self,
        backend: Backend,
        depth: int | None = None,
        job_seconds: list[float] | None = None,
        handoff: Handoff | None = None,
    ) -> None:
        """Set the backend, the split depth (None: from the first run's length) and
        when jobs hand work back (:class:`~ctxcheck.parallel.handoff.Handoff`).

        ``job_seconds``, when given, gets each finished job's own seconds.
        """
        self._backend = backend
        self._submit = backend.submit
        self._collect = backend.collect
        self._split = depth
        self._handoff = handoff or Handoff()
        self.redundant = 0
        self.jobs = 0
        self.handoffs = 0
        self.job_seconds = job_seconds
        #: the job asked for work and when, until it answers
        self._asked: tuple[int, float] | None = None
        #: jobs that had nothing to give: not asked again before this time
        self._refused: dict[int, float] = {}

    # -- the search -----------------------------------------------------------
    def search(self) -> bool:
        self._visible = has_invariants(self.model)
        self._floor = 0
        self.requests = []
        self._pending: dict[int, Pending] = {}
        self._numbers = 0
        ex = self.execution()
        if self._split is None:
            self._split = self._depth_for(ex)
            ex = self.execution()
        self._root = _State(self._new_node(ex, {}, None), None, None)
        self._open: list[_State] = [self._root]
        self._path = Path(self.execution, [self._root])
        while True:
            self._absorb(self._collect(0.0))
            work = self._next()
            if work is None:
                if not self._pending:
                    return self.stopped is None
                self._absorb(self._collect(self._steal()))
                continue
            if self.out_of_budget():
                self._drain()
                return False
            self._descend(*work)

    def _depth_for(self, ex: Execution) -> int:
        """A twelfth of the first run's length (the ``split_depth`` knob overrides it).

        Deeper splits make more, smaller jobs: better balance, but every job
        replays its prefix twice (here and in the worker). On the
        perf_counter models, where races reach far back, a twelfth gave the
        best time of the depths tried (BENCHMARKS.md, "split search").
        """
        n = 0
        while not ex.finished:
            tid, branch = ex.choices(ex.last_tid)[0]
            ex.step(tid, branch)
            n += 1
        return max(1, n // 12)

    def _next(self) -> tuple[_State, tuple[int, int]] | None:
        """The deepest state with a choice left (as dpor's depth-first order would)."""
        while self._open:
            state = self._open[-1]
            todo = state.choices()
            if todo:
                return state, todo[0]
            self._open.pop()
        return None

    def _descend(self, state: _State, choice: tuple[int, int]) -> None:
        """Take ``choice`` at ``state`` and run down to the split depth (or the end)."""
        path = state.path()
        for above, below in itertools.pairwise(path):
            assert below.edge is not None
            above.choose(*below.edge)
            above.sig = below.edge_sig
        state.choose(*choice)
        trace = Trace()
        ex = self._replay(path[:-1], trace)
        run: Path[_Node] = Path(self.execution, list(path))
        assert self._split is not None
        blocked = self._extend(ex, run, trace, limit=max(self._split, state.depth + 1))
        nodes = run.nodes
        last = nodes[-1]
        states = self._graft(path, nodes)
        if last.tid == NONE or ex.finished:
            self.finish(ex, blocked=blocked or (bool(last.enabled) and not ex.finished))
        else:
            self._hand_out(states, nodes)
        for s in states:
            if s.choices() and s not in self._open:
                self._open.append(s)
        self._open.sort(key=lambda s: s.depth)

    def _graft(self, path: list[_State], nodes: list[_Node]) -> list[_State]:
        """The states of the run above its last one, as states of the tree.

        The states already in the tree record the choice taken; the new
        ones (each of which took its first pick) join it below them.
        """
        states: list[_State] = list(path)
        for i in range(len(nodes) - 1):
            node = nodes[i]
            edge = (node.tid, node.branch)
            if i >= len(path):
                fresh = _State(node, states[i - 1], (nodes[i - 1].tid, nodes[i - 1].branch))
                fresh.edge_sig = nodes[i - 1].sig
                states[i - 1].children[fresh.edge] = fresh  # type: ignore[index]
                states.append(fresh)
            if i >= len(path) - 1:  # a step this run took (the others were replayed)
                st = states[i]
                st.nb[edge[0]] = node.nbranches
                st.mark(edge)
        return states

    def _replay(self, path: list[_State], trace: Trace) -> Execution:
        """A run through the states of ``path``, each step noted in ``trace``."""
        ex = self.execution()
        ex.replaying = True
        for depth, node in enumerate(path):
            fp = normalise(step_footprint(ex, node.tid, self._visible, names=False))
            nthreads = len(ex.machine.threads)
            node.sig = check_step(ex, node.tid, node.sig, depth)
            ex.step(node.tid, node.branch)
            event, _ = trace.add(node.tid, fp)
            for idx in range(nthreads, len(ex.machine.threads)):
                trace.spawned(event, idx)
        ex.replaying = False
        return ex

    def _hand_out(self, states: list[_State], nodes: list[_Node]) -> None:
        """The last state of ``nodes`` is at the split depth: a job explores below it."""
        leaf = nodes[-1]
        prefix = tuple((n.tid, n.branch) for n in nodes[:-1])
        key_of = self.search_state.ids.key_of
        sigs = tuple(stable_sig(n.sig, key_of) for n in nodes[:-1])
        state = self.search_state
        remaining = None
        if self._deadline is not None:
            remaining = max(0.001, self._deadline - time.monotonic())
        job = Job(self._numbers, prefix, sigs, asleep_of(leaf), state.reads.export(key_of),
                  remaining, self._left(), self._handoff.every)  # fmt: skip
        self._numbers += 1
        self.jobs += 1
        for n in states:
            n.out += 1
        self._pending[job.number] = Pending(job, states, list(prefix))
        self._submit(job)

    def _left(self) -> int | None:
        limit = self.bounds.max_executions
        if limit is None:
            return None
        return max(1, limit - self.stats.executions - self.stats.blocked)

    # -- results ----------------------------------------------------------------
    def _absorb(self, messages: list[JobResult | Donation]) -> None:
        for message in messages:
            if isinstance(message, Donation):
                self._adopt(message)
            else:
                self._finished(message)

    def _finished(self, result: JobResult) -> None:
        """A job is back: its findings, and the states above it are free of it."""
        if result.error is not None:
            self._pending.clear()
            raise result.error
        if self._asked is not None and self._asked[0] == result.number:
            self._asked = None
        pending = self._pending.pop(result.number, None)
        if pending is None:  # a job run twice (a worker died): keep the first
            self.redundant += result.executions
            return
        if self.job_seconds is not None:
            self.job_seconds.append(result.seconds)
        self._take(pending, result)
        for n in pending.path:
            n.out -= 1
        if result.stopped is not None and self.stopped is None:
            self.stopped = result.stopped

    def _take(self, pending: Pending, result: JobResult) -> None:
        """A job's report: counts, discoveries, and its races aimed at states above it."""
        self._count(result)
        self.redundant += result.redundant
        for depth, initials, p in result.requests:
            target = pending.path[depth]
            self.add_backtrack(target, initials, p)
            self._reopen(target)
        self._open.sort(key=lambda s: s.depth)

    def _reopen(self, state: _State) -> None:
        if state.choices() and state not in self._open:
            self._open.append(state)

    def _count(self, result: JobResult) -> None:
        stats = self.stats
        stats.executions += result.executions
        stats.blocked += result.blocked
        stats.steps += result.steps
        state = self.search_state
        state.reads.learn(result.learnt, state.ids.id_of)
        for prop, (schedule, found) in result.discoveries.items():
            known = self.discoveries.get(prop)
            if known is None or len(schedule) < len(known.schedule):
                self.discoveries[prop] = Discovery(list(schedule), found)
        if self.progress is not None:
            stats.seconds = time.monotonic() - self._start
            self._estimate()
            self.progress(stats)

    # -- work stealing (see ctxcheck.parallel.handoff) ------------------------------
    def _steal(self) -> float | None:
        """Ask a job for work if a worker is idle; how long to wait for news then.

        The job asked is the one out longest (the likeliest to be large).
        A job that had nothing to give is not asked again for a moment, and
        a request nobody answers (its worker died) is forgotten after a while.
        """
        after, now = self._handoff.after, time.monotonic()
        if after is None:
            return None
        if self._asked is not None:
            left = self._asked[1] + ASK_PATIENCE - now
            if left > 0:
                return left
            self._asked = None
        if self._backend.idle() == 0:
            return None
        ready = {
            n: max(p.started + after, self._refused.get(n, 0.0)) for n, p in self._pending.items()
        }
        now_ready = [n for n, t in ready.items() if t <= now]
        if not now_ready:
            return min(ready.values()) - now
        number = min(now_ready, key=lambda n: self._pending[n].started)
        self._backend.split(number)
        self._asked = (number, now)
        return ASK_PATIENCE

    def _adopt(self, donation: Donation) -> None:
        """A job handed the top of its subtree back: its states join the tree."""
        number = donation.number
        if self._asked is not None and self._asked[0] == number:
            self._asked = None
        if not donation.given:
            self._refused[number] = time.monotonic() + REFUSED_PAUSE
        pending = self._pending.get(number)
        if pending is None:  # cannot happen on a pipe: a donation comes before its result
            return
        if donation.given:
            self.handoffs += 1
            self.stats.handoffs = self.handoffs  # live, for progress hooks
            pending.path.extend(self._graft_given(pending, donation.given))
            pending.prefix.extend((g.tid, g.branch) for g in donation.given)
        self._take(pending, donation.found)

    def _graft_given(self, pending: Pending, given: tuple[Given, ...]) -> list[_State]:
        """The states a job gave, as states of the tree below the job's own (replayed here)."""
        ex = self.execution()
        ex.replaying = True
        sig = None
        for depth, (tid, branch) in enumerate(pending.prefix):
            sig = check_step(ex, tid, None, depth)
            ex.step(tid, branch)
        parent, edge = pending.path[-1], pending.prefix[-1]
        fresh: list[_State] = []
        for g in given:
            state = self._given_state(ex, g, parent, edge)
            state.edge_sig = sig
            sig = state.sig = check_step(ex, g.tid, None, state.depth)
            ex.step(g.tid, g.branch)
            state.out += 1
            self._reopen(state)
            fresh.append(state)
            parent, edge = state, (g.tid, g.branch)
        ex.replaying = False
        return fresh

    def _given_state(
        self, ex: Execution, g: Given, parent: _State, edge: tuple[int, int]
    ) -> _State:
        """The state ``ex`` is in, as the job that gave it had it (``g``)."""
        sleep = {
            q: ERROR_FOOTPRINT if failed else step_footprint(ex, q, self._visible, names=False)
            for q, failed in g.asleep
            if q in ex.enabled()
        }
        node = self._new_node(ex, sleep, None)
        node.backtrack, node.done, node.errors = set(g.backtrack), set(g.done), set(g.errors)
        node.choose(g.tid, g.branch)
        node.nbranches = g.nbranches
        state = _State(node, parent, edge)
        parent.children[edge] = state
        state.nb[g.tid] = g.nbranches
        for b in range(g.branch + 1):  # the job's: done when handed out
            state.mark((g.tid, b))
        return state

    def _drain(self) -> None:
        """A budget ran out: take what the jobs under way bring back, then stop."""
        while self._pending:
            got = self._collect(None)
            if not got:
                break
            self._absorb(got)

    def done_fraction(self) -> float | None:
        """Finished jobs and runs against those known so far (a floor, not a forecast)."""
        total = self.jobs + len(self._open)
        if total == 0:
            return None
        return (self.jobs - len(self._pending)) / total
