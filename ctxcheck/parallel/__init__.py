"""One dpor search split across processes (``--jobs N``) or machines (``--cluster``).

:func:`run_split` is the front door: it sets up a
:class:`~ctxcheck.parallel.coordinator.Coordinator` (the top of the search
tree) with a backend that runs its jobs, a :class:`~ctxcheck.parallel.pool.LocalPool`
of forked worker processes or a Dask cluster
(:mod:`ctxcheck.parallel.cluster`), and returns the same
:class:`~ctxcheck.explorers.base.Outcome` a single ``dpor`` search does,
with ``stats`` gaining ``jobs``, ``reruns``, ``redundant`` and ``handoffs``.
Jobs hand work back to idle workers as they run (:mod:`ctxcheck.parallel.handoff`).
"""

from __future__ import annotations

from ctxcheck.errors import UsageError
from ctxcheck.explorers.base import Outcome, ProgressHook
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds, Options
from ctxcheck.parallel.coordinator import Coordinator
from ctxcheck.parallel.handoff import HANDOFF_AFTER, Handoff
from ctxcheck.parallel.pool import LocalPool, cores


def workers_for(jobs: int) -> int:
    """``--jobs`` as a number of workers: 0 means every core."""
    return cores() if jobs == 0 else jobs


def cluster_workers(jobs: int) -> int:
    """Workers of a ``local`` cluster: ``--jobs`` when given, else every core."""
    return workers_for(0 if jobs == 1 else jobs)


def handoff_of(options: Options) -> Handoff:
    """When jobs hand work back, from the ``handoff_after`` / ``handoff_every`` knobs.

    Neither is on the command line: the default (a job out for a quarter
    of a second gives part of its subtree to an idle worker) suits every
    model measured, and ``handoff_every`` exists for tests, which make jobs
    hand work back far more often than a search would.
    """
    after = options.knobs.get("handoff_after", HANDOFF_AFTER)
    every = options.knobs.get("handoff_every")
    if after is not None and (
        isinstance(after, bool) or not isinstance(after, int | float) or after < 0
    ):
        raise UsageError(f"handoff_after={after!r}: give seconds, at least 0 (None: never)")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise UsageError(f"handoff_every={every!r}: give a whole number of runs, at least 1")
    return Handoff(after, every)


def run_split(
    model: Model,
    config: Config,
    options: Options,
    bounds: Bounds,
    progress: ProgressHook | None = None,
    target: str | None = None,
    job_seconds: list[float] | None = None,
) -> Outcome:
    """Explore with dpor, split over ``options.jobs`` processes or ``options.cluster``.

    ``job_seconds``, when given, gets each finished job's own seconds (what
    ``ctxcheck bench --split`` reports as the sizes of the jobs).
    """
    if options.explorer != "dpor":
        raise UsageError(
            f"--jobs and --cluster split the dpor search; explorer {options.explorer!r} "
            f"runs in one process (drop --jobs/--cluster, or use --explorer dpor)"
        )
    if bounds.max_preemptions is not None:
        raise UsageError(
            "--max-preemptions bounds the bounded explorer only; a split dpor search explores "
            "every schedule (drop --max-preemptions, or drop --jobs/--cluster and use "
            "--explorer bounded)"
        )
    coordinator = Coordinator(model, config, bounds, progress, options.stop_on_first)
    depth = options.knobs.get("split_depth")
    if options.cluster is not None:
        from ctxcheck.parallel.cluster import DaskBackend

        backend: LocalPool | DaskBackend = DaskBackend(
            options.cluster,
            model,
            config,
            bounds,
            target,
            cluster_workers(options.jobs),
        )
    else:
        backend = LocalPool(model, config, bounds, workers_for(options.jobs))
    coordinator.configure(backend, depth, job_seconds, handoff_of(options))
    try:
        outcome = coordinator.run()
    finally:
        backend.close()
    outcome.stats.jobs = coordinator.jobs
    outcome.stats.reruns = backend.reruns
    outcome.stats.redundant = coordinator.redundant
    outcome.stats.handoffs = coordinator.handoffs
    return outcome


__all__ = ["cluster_workers", "run_split", "workers_for"]
