"""One unit of a split search: a subtree of the dpor tree, and what exploring it found.

A :class:`Job` names a state by the choices that reach it from the initial
state, and says which threads sleep there.
:func:`~ctxcheck.parallel.handoff.run_job` explores every execution below it
with source-DPOR (:meth:`ctxcheck.explorers.dpor.DporExplorer.explore`) in
whatever process runs it, and returns a :class:`JobResult`: the counts,
one counterexample per violated property, what the invariants read (so
that the searches of all processes learn from each other, see
:meth:`ctxcheck.observe.PropertyReads.export`), and the races that ask for a
thread at a state above the subtree, which only the coordinator, who owns
those states, can act on. On the way it may hand the top of its subtree
back as a :class:`Donation` (work stealing, :mod:`ctxcheck.parallel.handoff`).

Everything here is plain data, so that a job can cross a pipe or a network.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from ctxcheck.explorers.dpor import Request
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
    #: hand part of the subtree back every this many runs, unasked (tests; None: when asked)
    handoff_every: int | None = None
    #: (executions, blocked) below the state already reported by an earlier run of
    #: this job that handed work away and then died: a rerun does them again
    overlap: tuple[int, int] = (0, 0)
    #: the job is being run again because its worker died
    rerun: bool = False


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
    #: executions run a second time (a rerun of a job that had reported some)
    redundant: int = 0
    #: why the job stopped before its subtree was covered (None: covered)
    stopped: str | None = None
    #: the error the model raised while the job ran (the search stops with it)
    error: BaseException | None = None


#: a step as a replay must meet it again, in a process's own ids or in stable keys
Sig = tuple[str, int]
StableSig = tuple[str, tuple[Any, ...] | None]


def stable_sig(sig: Sig | None, key_of: Callable[[int], Any]) -> StableSig | None:
    """A step's signature with its object named the same way in every process."""
    if sig is None:
        return None
    return sig[0], None if sig[1] < 0 else key_of(sig[1])


def local_sig(sig: StableSig | None, id_of: Callable[[Any], int]) -> Sig | None:
    """A signature from :func:`stable_sig` in this process's ids."""
    if sig is None:
        return None
    return sig[0], -1 if sig[1] is None else id_of(sig[1])


@dataclass(frozen=True)
class Given:
    """One state of a job's path handed back to the coordinator (see :class:`Donation`).

    What the coordinator needs to go on from that state as the job would
    have: the choice the job is exploring there (``branch`` of the step of
    ``tid``, which has ``nbranches`` outcomes; those up to ``branch`` are
    the job's), the backtrack set, the threads done, those whose step from
    here was a violation, and the sleep set (as :attr:`Job.asleep`).
    """

    tid: int
    branch: int
    nbranches: int
    backtrack: tuple[int, ...]
    done: tuple[int, ...]
    errors: tuple[int, ...]
    asleep: tuple[tuple[int, bool], ...]


@dataclass
class Donation:
    """A running job hands the top of its subtree back (work stealing).

    ``given`` are the states of the job's path from its own state down to
    the one whose untried choices are handed back; the job keeps only the
    subtree below the last of them, and ``rest`` is that narrower job, the
    one to run again if the worker dies. ``found`` is what the job found so
    far (since its last report), so that a rerun of ``rest`` loses nothing
    of the part it no longer covers. ``given`` is empty when the job had
    nothing to hand back; ``found`` is then still a report, and ``rest`` the
    job's own subtree, owing what was reported.
    """

    number: int
    given: tuple[Given, ...]
    found: JobResult
    rest: Job


def describe(job: Job) -> dict[str, Any]:
    """A job in a line of a log (for debugging a split)."""
    return {"job": job.number, "depth": len(job.prefix), "asleep": len(job.asleep)}
