"""One unit of a split search: a subtree of the dpor tree, and what exploring it found.

A :class:`Job` names a state by the choices that reach it from the initial
state, and says which threads sleep there. :func:`run_job` explores every
execution below it with source-DPOR (:meth:`ctxcheck.explorers.dpor.DporExplorer.explore`)
in whatever process runs it, and returns a :class:`JobResult`: the counts,
one counterexample per violated property, what the invariants read (so
that the searches of all processes learn from each other, see
:meth:`ctxcheck.observe.PropertyReads.export`), and the races that ask for a
thread at a state above the subtree, which only the coordinator, who owns
those states, can act on.

Everything here is plain data, so that a job can cross a pipe or a network.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from ctxcheck.errors import CtxcheckError
from ctxcheck.explorers.dpor import DporExplorer, Request
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.runtime import Found

Learnt = list[tuple[int, Hashable, list[Hashable]]]


@dataclass(frozen=True)
class Job:
    """Explore below the state ``prefix`` reaches."""

    #: the job's number, unique in one search
    number: int
    prefix: tuple[tuple[int, int], ...]
    #: each prefix step as a replay must meet it again: (operation, object's stable key)
    sigs: tuple[tuple[str, tuple[Any, ...] | None] | None, ...]
    #: threads asleep at the state: True when asleep dependent with everything
    asleep: tuple[tuple[int, bool], ...]
    #: what the invariants of the search have read so far (stable keys)
    learnt: Learnt = field(default_factory=list)
    #: seconds the job may take (None: no limit)
    timeout: float | None = None
    #: executions the job may run (None: no limit)
    max_executions: int | None = None


@dataclass
class JobResult:
    """What exploring one job's subtree found."""

    number: int
    executions: int = 0
    blocked: int = 0
    steps: int = 0
    seconds: float = 0.0
    #: property -> (schedule, violation) of the shortest counterexample found
    discoveries: dict[str, tuple[list[tuple[int, int]], Found]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    learnt: Learnt = field(default_factory=list)
    #: why the job stopped before its subtree was covered (None: covered)
    stopped: str | None = None
    #: the error the model raised while the job ran (the search stops with it)
    error: BaseException | None = None


def run_job(model: Model, config: Config, bounds: Bounds, job: Job) -> JobResult:
    """Explore ``job``'s subtree of ``model`` under ``config`` with source-DPOR."""
    start = time.monotonic()
    own = Bounds(bounds.max_steps, job.max_executions, job.timeout, bounds.max_preemptions)
    explorer = DporExplorer(model, config, own)
    state = explorer.search_state
    state.reads.learn(job.learnt, state.ids.id_of)
    explorer._start = start  # the job's budget counts from its own start
    if own.timeout is not None:
        explorer._deadline = start + own.timeout
    ids = state.ids
    sigs: list[tuple[str, int] | None] = [
        None if sig is None else (sig[0], -1 if sig[1] is None else ids.id_of(sig[1]))
        for sig in job.sigs
    ]
    try:
        complete = explorer.explore(list(job.prefix), dict(job.asleep), sigs)
    except CtxcheckError as exc:
        return JobResult(number=job.number, error=exc)
    stats = explorer.stats
    return JobResult(
        number=job.number,
        executions=stats.executions,
        blocked=stats.blocked,
        steps=stats.steps,
        seconds=time.monotonic() - start,
        discoveries={p: (d.schedule, d.found) for p, d in explorer.discoveries.items()},
        requests=explorer.requests,
        learnt=state.reads.export(state.ids.key_of),
        stopped=None if complete else (explorer.stopped or "cut"),
    )


def describe(job: Job) -> dict[str, Any]:
    """A job in a line of a log (for debugging a split)."""
    return {"job": job.number, "depth": len(job.prefix), "asleep": len(job.asleep)}
