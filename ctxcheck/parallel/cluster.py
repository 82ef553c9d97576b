"""Jobs of a split search on a Dask cluster (``--cluster ADDRESS`` or ``--cluster local``).

Why Dask and not Ray: the split is a coordinator that hands out jobs one at
a time as the top of the dpor tree unfolds, and takes each result as soon
as it is back (``distributed.wait(..., return_when="FIRST_COMPLETED")``).
Dask's futures API does exactly that from plain Python, with a scheduler
that is a pure-Python wheel (``pip install ctxcheck[cluster]`` pulls no
compiled runtime), a ``LocalCluster`` for one machine, and the
``dask scheduler`` / ``dask worker ADDRESS`` commands for several. Ray
serves a tree of tasks just as well, but brings a large binary runtime and
its own object store, which a search whose jobs and results are a few
kilobytes does not need.

A worker knows the model only by how the command line names it (a name, or
a file every machine can read at the same path): a model is code, and code
is loaded where it runs, never shipped inside a job. Each worker process
loads it once.

Jobs steal work here as on a pool (:mod:`ctxcheck.parallel.handoff`): when
a worker thread of the cluster is idle and nothing is left to hand out, the
coordinator asks the job out longest, and the task running it hands the top
of its subtree back. A running task shares no pipe with the coordinator, so
the request and the donation go through the scheduler, an ``Event`` per job
and a ``Queue`` per search (:mod:`ctxcheck.parallel.remote`); names carry a
prefix unique to the search, and :meth:`DaskBackend.close` clears them.

Faults: a worker that dies takes its jobs with it. The scheduler of a
``local`` cluster is told to give up on such a task at once
(``allowed-failures`` 0), so the task comes back here as
``KilledWorker`` and is submitted again (counted in ``reruns``) as the job
now is: the donor's narrower ``rest`` if it had handed work away, as the
pool does, so that nothing handed back is explored twice. The nanny starts
a new worker process. A scheduler at an address retries a task on another
worker by itself, up to its own ``allowed-failures``, with the arguments it
was given, the whole job: such a retry finds that its attempt had started
and returns at once, and the job, as it now is, is submitted again (and
counted) here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ctxcheck.errors import CtxcheckError, UsageError
from ctxcheck.loader import load_model
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.parallel.job import Donation, Job, JobResult
from ctxcheck.parallel.remote import Names, Spec, decode, run_remote

INSTALL_HINT = "--cluster needs Dask distributed: pip install 'ctxcheck[cluster]'"
#: seconds between the coordinator's looks at the donations queue while a job out may give
GIVEN_POLL = 0.05


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise UsageError(INSTALL_HINT) from exc
    return distributed


def start_local(workers: int) -> Any:
    """A Dask cluster of ``workers`` processes on this machine (one thread each).

    Its scheduler gives up on a task whose worker died at once, so that the
    task comes back as ``KilledWorker`` and is resubmitted and counted here.
    """
    distributed = _import_distributed()
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        return distributed.LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=40,
        )  # fmt: skip


@contextmanager
def shared_cluster(address: str | None, workers: int) -> Iterator[str | None]:
    """The address for a series of checks: ``local`` is started once for all of them."""
    if address != "local":
        yield address
        return
    cluster = start_local(workers)
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def loadable_target(model: Model, target: str | None) -> str:
    """How a worker finds ``model``: the given target, else how a command would name it."""
    from ctxcheck.loader import command_target

    name = target if target is not None else command_target(model)
    if os.path.isfile(name):
        return os.path.abspath(name)
    try:
        load_model(name)
    except Exception as exc:  # the message says what to do instead
        raise UsageError(
            f"--cluster: workers load the model by name or file, and {name!r} does not load "
            f"({exc}); define the model in a models/ package or a model file, or use --jobs"
        ) from exc
    return name


class DaskBackend:
    """Submit jobs to a Dask scheduler at ``address`` (``local``: start one here).

    Jobs hand work back as on a pool (:mod:`ctxcheck.parallel.remote` says
    how a task is asked and answers). What the backend keeps, per job out:
    the job as it now is (narrowed to each donation's ``rest``), and the
    attempt that runs it; only that attempt's donations count, so a task
    lost and submitted again never speaks twice for one job.
    """

    def __init__(
        self,
        address: str,
        model: Model,
        config: Config,
        bounds: Bounds,
        target: str | None,
        workers: int,
    ) -> None:
        distributed = _import_distributed()
        self._wait = distributed.wait
        self._killed = distributed.KilledWorker
        self._event = distributed.Event
        self._spec: Spec = (
            loadable_target(model, target),
            config.variant,
            tuple(sorted(config.params.items())),
            bounds,
        )
        self._cluster: Any = None
        self.client = self._connect(distributed, address, workers)
        self.names = Names(f"ctxcheck-{uuid.uuid4().hex}")
        self._given = distributed.Queue(self.names.given, client=self.client)
        self._futures: dict[Any, int] = {}
        #: job number -> the job as it now is, and the name of the attempt running it
        self._jobs: dict[int, tuple[Job, str]] = {}
        self._serials = itertools.count()
        #: every attempt's event, and the jobs ever asked: cleared at close
        self._attempts: list[str] = []
        self._asked: set[int] = set()
        self._next_look = 0.0
        self.reruns = 0

    def _connect(self, distributed: Any, address: str, workers: int) -> Any:
        if address == "local":
            self._cluster = start_local(workers)
            return distributed.Client(self._cluster)
        try:
            return distributed.Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"--cluster {address}: no Dask scheduler answers there ({exc}); start one with "
                f"'dask scheduler' and workers with 'dask worker {address}', or use --cluster local"
            ) from exc

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (for tests that kill one)."""
        return list(self.client.run(os.getpid).values())

    def idle(self) -> int:
        """Worker threads of the cluster with no task of ours, running or waiting."""
        threads: int = sum(self.client.nthreads().values())
        return max(0, threads - len(self._futures))

    def split(self, number: int) -> None:
        """Ask the task running job ``number`` to hand part of it back (it looks every
        :data:`~ctxcheck.parallel.remote.ASK_POLL` seconds)."""
        if number in self._jobs:
            self._event(self.names.ask(number), client=self.client).set()
            self._asked.add(number)

    def submit(self, job: Job) -> None:
        """Send ``job`` to the cluster, as a new attempt."""
        attempt = self.names.attempt(next(self._serials))
        self._attempts.append(attempt)
        future = self.client.submit(run_remote, self._spec, job, self.names, attempt, key=attempt)
        self._futures[future] = job.number
        self._jobs[job.number] = (job, attempt)

    def _may_give(self, number: int) -> bool:
        """Whether job ``number`` can have donated: it was asked, or gives unasked (tests)."""
        return number in self._asked or self._jobs[number][0].handoff_every is not None

    def collect(self, timeout: float | None) -> list[JobResult | Donation]:
        """Donations and results that came within ``timeout`` seconds (None: wait for one).

        While a job out may give work, the wait is cut into slices of
        :data:`GIVEN_POLL` seconds with a look at the queue after each.
        """
        end = None if timeout is None else time.monotonic() + timeout
        while self._futures:
            out = self._news(self._done_within(self._slice(end)))
            if out or (end is not None and time.monotonic() >= end):
                return out
        return []

    def _slice(self, end: float | None) -> float | None:
        left = None if end is None else max(0.0, end - time.monotonic())
        if not any(self._may_give(n) for n in self._futures.values()):
            return left
        return GIVEN_POLL if left is None else min(GIVEN_POLL, left)

    def _done_within(self, seconds: float | None) -> list[Any]:
        """The futures done, waiting up to ``seconds`` for one (None: until one is)."""
        if seconds is None or seconds > 0:
            with contextlib.suppress(TimeoutError):
                self._wait(list(self._futures), timeout=seconds, return_when="FIRST_COMPLETED")
        return [f for f in self._futures if f.done()]

    def _news(self, done: list[Any]) -> list[JobResult | Donation]:
        """Donations first, then the results of ``done``.

        ``done`` is taken before the queue is read: a task queues its
        donations before it ends, so every donation of a job whose result is
        here is read first, as a pipe would deliver them. While none is done
        the queue is read at most every :data:`GIVEN_POLL` seconds (a
        scheduler round trip), not at each of the coordinator's steps.
        """
        out: list[JobResult | Donation] = []
        if self._look_now(done):
            out.extend(self._donations())
        for future in done:
            out.extend(self._ended(future))
        return out

    def _look_now(self, done: list[Any]) -> bool:
        """Whether to read the queue: a job that may have given is done (so it must be
        read), or one running may give and the last look is ``GIVEN_POLL`` s old."""
        if any(self._may_give(self._futures[f]) for f in done):
            return True
        now = time.monotonic()
        if now < self._next_look or not any(map(self._may_give, self._futures.values())):
            return False
        self._next_look = now + GIVEN_POLL
        return True

    def _donations(self) -> list[JobResult | Donation]:
        """The donations queued by the attempts running now; a donation narrows its job."""
        out: list[JobResult | Donation] = []
        for item in self._given.get(batch=True):
            attempt, donation = decode(item)
            current = self._jobs.get(donation.number)
            if current is None or current[1] != attempt:  # an attempt given up on: its
                continue  # job runs again as it was when it was submitted again
            self._jobs[donation.number] = (donation.rest, attempt)
            out.append(donation)
        return out

    def _ended(self, future: Any) -> list[JobResult | Donation]:
        """A finished task's result; a lost one's job is submitted again (as it now is)."""
        number = self._futures.pop(future)
        job, _ = self._jobs[number]
        if future.status == "finished":
            result = future.result()
            if result is not None:
                del self._jobs[number]
                return [result]
        else:
            exc = future.exception()
            if not isinstance(exc, self._killed):
                del self._jobs[number]
                if not isinstance(exc, CtxcheckError):
                    exc = CtxcheckError(f"a cluster worker failed on job {job.number}: {exc!r}")
                return [JobResult(number=job.number, error=exc)]
        self.reruns += 1
        self.submit(dataclasses.replace(job, rerun=True))
        return []

    def close(self) -> None:
        """Cancel what is still out, forget this search at the scheduler, let go of the cluster."""
        try:
            if self._futures:
                self.client.cancel(list(self._futures))
            self._forget()
            self.client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()

    def _forget(self) -> None:
        """Clear the search's events and release its queue (a shared scheduler keeps them)."""
        names = [*self._attempts, *(self.names.ask(n) for n in sorted(self._asked))]
        scheduler = self.client.scheduler

        async def clear() -> None:
            for at in range(0, len(names), 256):
                chunk = names[at : at + 256]
                await asyncio.gather(*(scheduler.event_clear(name=n) for n in chunk))

        with contextlib.suppress(OSError, TimeoutError):
            self.client.sync(clear)
        self._given.close()
