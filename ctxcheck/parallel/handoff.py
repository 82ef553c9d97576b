"""Work stealing: a running job of a split search hands the top of its subtree back.

The fixed split cuts the dpor tree at one depth, and the subtrees below it
are as unequal as the model makes them: on ctx_create at its defaults one of
22 jobs held most of the work (BENCHMARKS.md, "Split search"). So a job gives
work away while it runs. Between two runs (:meth:`DporExplorer.between_runs`,
where the path alone describes what is left), when the coordinator asks (a
worker is idle and nothing is left to hand out) or, for tests, every
``handoff_every`` runs, a :class:`Donor`:

1. finds the shallowest state of its path, from its own state down, that
   still has an untried choice (another thread of its backtrack set, or
   another outcome of the step being explored);
2. hands back every state of its path from its own down to that one
   (:class:`~ctxcheck.parallel.job.Given`: the choice it explores there,
   the backtrack set, the threads done, the sleep set);
3. raises its floor below that state: from then on it explores only the
   subtree of the choice it is in, and a race aimed at a state it handed
   back is a request, like a race aimed above its own state.

The coordinator takes those states into its tree: their untried choices
become jobs like any other, and races aimed at them (the donor's requests,
the new jobs', its own) are added there. Why the union is still one dpor
search: it is the coordinator's rule, applied lower down. Each state has one
owner at a time (the donor, then the coordinator), which acts on every race
aimed at it, and a backtrack set only grows, so each choice it ever holds is
explored once, by its owner's job. The choice the donor keeps counts as done
at each state handed back (done when handed out), so the new jobs run with
the sleep sets of a single search that explored the donor's choice first.

The request and the donation travel on a :class:`Channel`, which is the
backend's: the worker's pipe on a pool (:mod:`ctxcheck.parallel.pool`), an
``Event`` and a ``Queue`` at the scheduler on a Dask cluster
(:mod:`ctxcheck.parallel.remote`, which looks for a request at most every
0.2 s: each look is a round trip). The donor is the same on both.

Faults: a donation reports what the job found so far
(:class:`~ctxcheck.parallel.job.Donation` ``found``) and names the narrower
job (``rest``) that covers what the donor still explores. A worker that dies
after handing work away is replaced and given ``rest``, not the original
job, so nothing handed back is explored twice. The part of ``rest`` the dead
worker had already reported is run again: counted once in ``executions``,
and in ``redundant``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Protocol

from ctxcheck.errors import CtxcheckError
from ctxcheck.explorers.deps import ERROR_FOOTPRINT
from ctxcheck.explorers.dpor import DporExplorer, _Node
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.parallel.job import Donation, Given, Job, JobResult, local_sig, stable_sig

#: seconds a job runs before an idle worker may take part of it
HANDOFF_AFTER = 0.25


@dataclass(frozen=True)
class Handoff:
    """When jobs hand work back (the ``handoff_after`` and ``handoff_every`` knobs)."""

    #: seconds a job must have run before it is asked for work (None: never asked)
    after: float | None = HANDOFF_AFTER
    #: every job hands work back every this many runs, asked or not (tests; None: off)
    every: int | None = None


class Channel(Protocol):
    """How a running job hears it is asked for work, and hands work over."""

    def asked(self, number: int) -> bool:
        """Whether the coordinator has asked job ``number`` for work since the last call."""

    def give(self, donation: Donation) -> None:
        """Send ``donation`` to the coordinator."""


def asleep_of(node: _Node) -> tuple[tuple[int, bool], ...]:
    """A node's sleep set as a job carries it: (thread, asleep with everything)."""
    return tuple((q, fp == ERROR_FOOTPRINT) for q, fp in sorted(node.sleep.items()))


def untried(node: _Node) -> bool:
    """Whether ``node`` has a choice left besides the one being explored."""
    if node.branch + 1 < node.nbranches:
        return True
    return bool(node.backtrack - node.done - node.sleep.keys() - {node.tid})


def given_of(node: _Node) -> Given:
    """What the coordinator needs to own ``node`` (see :class:`~ctxcheck.parallel.job.Given`)."""
    return Given(
        node.tid, node.branch, node.nbranches, tuple(sorted(node.backtrack)),
        tuple(sorted(node.done)), tuple(sorted(node.errors)), asleep_of(node),
    )  # fmt: skip


class Donor(DporExplorer):
    """Source-DPOR below a job's state that can hand the top of its subtree back.

    It also reports in parts: each report (a donation's ``found``, then the
    final result) holds what was found since the previous one, so that
    nothing is counted twice. A rerun owes the executions its dead
    predecessor had reported (``Job.overlap``): they are reported as
    ``redundant``, not again as executions.
    """

    def __init__(
        self, model: Model, config: Config, bounds: Bounds, job: Job, channel: Channel | None
    ) -> None:
        super().__init__(model, config, bounds)
        self.job = job
        self._channel = channel
        self._owed = job.overlap if job.rerun else (0, 0)
        #: (executions, blocked, steps) reported so far
        self._sent = (0, 0, 0)
        self._next_due = job.handoff_every

    def between_runs(self) -> None:
        """Hand work back if asked (or due); see the module docstring."""
        if self._channel is None:
            return
        if self._due() or self._channel.asked(self.job.number):
            self._channel.give(self.donate())

    def _due(self) -> bool:
        every, due = self.job.handoff_every, self._next_due
        runs = self.stats.executions + self.stats.blocked
        if every is None or due is None or runs < due:
            return False
        self._next_due = runs + every
        return True

    def donate(self) -> Donation:
        """Hand back the states down to the shallowest one with an untried choice."""
        nodes = self._path.nodes
        cut = next((d for d in range(self._floor, len(nodes) - 1) if untried(nodes[d])), None)
        found = self.report()
        if cut is None:  # nothing given, but what was reported is not to be counted again
            return Donation(self.job.number, (), found, self._rest(nodes, self._floor - 1))
        given = tuple(given_of(n) for n in nodes[self._floor : cut + 1])
        rest = self._rest(nodes, cut)
        self._floor = cut + 1
        return Donation(self.job.number, given, found, rest)

    def _rest(self, nodes: list[_Node], cut: int) -> Job:
        """The job that covers what is kept: the subtree of ``cut``'s choice.

        Its ``overlap`` is every run below that state so far, all of them
        reported by now: a rerun owes them.
        """
        key_of = self.search_state.ids.key_of
        kept = nodes[cut + 1]
        timeout = None
        if self._deadline is not None:
            timeout = max(0.001, self._deadline - time.monotonic())
        return dataclasses.replace(
            self.job,
            prefix=tuple((n.tid, n.branch) for n in nodes[: cut + 1]),
            sigs=tuple(stable_sig(n.sig, key_of) for n in nodes[: cut + 1]),
            asleep=asleep_of(kept),
            learnt=self.search_state.reads.export(key_of),
            timeout=timeout,
            overlap=(self.stats.executions - kept.born[0], self.stats.blocked - kept.born[1]),
            rerun=False,
        )

    def report(self) -> JobResult:
        """What was found since the last report."""
        stats, state = self.stats, self.search_state
        now = (stats.executions, stats.blocked, stats.steps)
        (se, sb, ss), (oe, ob) = self._sent, self._owed
        self._sent = now
        requests, self.requests = self.requests, []
        return JobResult(
            number=self.job.number,
            executions=max(0, now[0] - max(se, oe)),
            blocked=max(0, now[1] - max(sb, ob)),
            steps=now[2] - ss,
            redundant=min(now[0], oe) - min(se, oe),
            discoveries={p: (d.schedule, d.found) for p, d in self.discoveries.items()},
            requests=requests,
            learnt=state.reads.export(state.ids.key_of),
        )


def run_job(
    model: Model, config: Config, bounds: Bounds, job: Job, channel: Channel | None = None
) -> JobResult:
    """Explore ``job``'s subtree of ``model`` under ``config`` with source-DPOR.

    With a ``channel`` the job can hand work back while it runs (a
    :class:`~ctxcheck.parallel.job.Donation` sent on it); the result then
    holds what was found after the last donation.
    """
    start = time.monotonic()
    own = Bounds(bounds.max_steps, job.max_executions, job.timeout, bounds.max_preemptions)
    explorer = Donor(model, config, own, job, channel)
    state = explorer.search_state
    state.reads.learn(job.learnt, state.ids.id_of)
    explorer._start = start  # the job's budget counts from its own start
    if own.timeout is not None:
        explorer._deadline = start + own.timeout
    sigs = [local_sig(sig, state.ids.id_of) for sig in job.sigs]
    try:
        complete = explorer.explore(list(job.prefix), dict(job.asleep), sigs)
    except CtxcheckError as exc:
        return JobResult(number=job.number, error=exc)
    result = explorer.report()
    result.seconds = time.monotonic() - start
    result.stopped = None if complete else (explorer.stopped or "cut")
    return result
