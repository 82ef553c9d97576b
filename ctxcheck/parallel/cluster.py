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

Faults: a worker that dies takes its jobs with it. The scheduler of a
``local`` cluster is told to give up on such a task at once
(``allowed-failures`` 0), so the task comes back here as
``KilledWorker`` and is submitted again (counted in ``reruns``); the nanny
starts a new worker process. A scheduler at an address retries a task on
another worker by itself, up to its own ``allowed-failures``; only what is
still lost after that is resubmitted (and counted) here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from ctxcheck.errors import CtxcheckError, UsageError
from ctxcheck.loader import load_model
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.parallel.handoff import run_job
from ctxcheck.parallel.job import Donation, Job, JobResult

INSTALL_HINT = "--cluster needs Dask distributed: pip install 'ctxcheck[cluster]'"

#: what a worker needs to rebuild the search: model target, variant, params, bounds
Spec = tuple[str, str, tuple[tuple[str, int], ...], Bounds]


@lru_cache(maxsize=8)
def _model_of(target: str) -> Model:
    return load_model(target)


def run_remote(spec: Spec, job: Job) -> JobResult:
    """Run ``job`` in a Dask worker (the model loaded once per process)."""
    target, variant, params, bounds = spec
    model = _model_of(target)
    return run_job(model, Config(variant, dict(params)), bounds, job)


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
    """Submit jobs to a Dask scheduler at ``address`` (``local``: start one here)."""

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
        self._spec: Spec = (
            loadable_target(model, target),
            config.variant,
            tuple(sorted(config.params.items())),
            bounds,
        )
        self._cluster: Any = None
        self.client = self._connect(distributed, address, workers)
        self._futures: dict[Any, Job] = {}
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
        """Always 0: a Dask task cannot be asked for work while it runs, so the
        split on a cluster stays fixed (no hand-off; see :mod:`ctxcheck.parallel.handoff`)."""
        return 0

    def split(self, number: int) -> None:
        """Nothing: see :meth:`idle`."""

    def submit(self, job: Job) -> None:
        """Send ``job`` to the cluster."""
        future = self.client.submit(run_remote, self._spec, job, pure=False)
        self._futures[future] = job

    def collect(self, timeout: float | None) -> list[JobResult | Donation]:
        """Results that came back within ``timeout`` seconds (None: wait for one)."""
        if not self._futures:
            return []
        if timeout is None or timeout > 0:
            try:
                self._wait(list(self._futures), timeout=timeout, return_when="FIRST_COMPLETED")
            except TimeoutError:
                return []
        out: list[JobResult | Donation] = []
        for future in [f for f in self._futures if f.done()]:
            job = self._futures.pop(future)
            if future.status == "finished":
                out.append(future.result())
                continue
            exc = future.exception()
            if isinstance(exc, self._killed):
                self.reruns += 1
                self.submit(job)
                continue
            if not isinstance(exc, CtxcheckError):
                exc = CtxcheckError(f"a cluster worker failed on job {job.number}: {exc!r}")
            out.append(JobResult(number=job.number, error=exc))
        return out

    def close(self) -> None:
        """Cancel what is still out and let go of the cluster (stopping a local one)."""
        try:
            if self._futures:
                self.client.cancel(list(self._futures))
            self.client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()
