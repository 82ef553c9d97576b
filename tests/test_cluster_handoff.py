"""Work stealing on a Dask cluster: a running task is asked for work and hands it back.

The Dask backend asks a task through an ``Event`` at the scheduler and gets
its donation on a ``Queue`` (``ctxcheck/parallel/remote.py``). Held here to
what the process pool is held to in ``test_parallel.py``: where the fixed
split leaves one job with all the work, jobs really hand work back when
asked and the search finds what one process finds; a worker killed just
after it handed work back has the donor's narrower job run again, not the
whole one, whether the coordinator resubmits it (a ``local`` cluster) or
the scheduler retries the task by itself (as one at an address does); two
searches on one cluster do not cross, and leave nothing behind at the
scheduler.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import ctxcheck
from ctxcheck.explorers.base import Outcome
from ctxcheck.options import Bounds, Options
from ctxcheck.result import Result

pytest.importorskip("distributed")

#: a model without invariants, so that its count is exact: n spinlock orders, 6! = 720 runs
COUNTED = "examples.lost_update"
COUNTED_CASE: dict[str, Any] = {"variant": "locked", "threads": 6}


def cluster_options(cluster: str, depth: int | None = None, every: int | None = None) -> Options:
    """A split on ``cluster``; with ``every``, each job hands work back every that many runs."""
    knobs: dict[str, Any] = {} if depth is None else {"split_depth": depth}
    if every is not None:
        knobs.update(handoff_every=every, handoff_after=0)
    return Options("dpor", Bounds(), knobs, jobs=2, cluster=cluster)


def findings(result: Result) -> list[tuple[str, int]]:
    """Each violated property with the length of its minimal counterexample."""
    return sorted((v.property, v.steps) for v in result.violations)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str | None]:
    """A local Dask cluster of two workers (its scheduler gives up on a lost task at once)."""
    from ctxcheck.parallel.cluster import shared_cluster

    with shared_cluster("local", 2) as address:
        yield address


def _ours(dask_scheduler: Any) -> list[str]:
    """The events and queues of ctxcheck's searches that the scheduler still holds."""
    ext = dask_scheduler.extensions
    names = [*ext["events"]._events, *ext["queues"].queues]
    return sorted(str(n) for n in names if str(n).startswith("ctxcheck-"))


def _left_at(address: str) -> list[str]:
    from distributed import Client

    with Client(address) as client:
        left: list[str] = client.run_on_scheduler(_ours)
    return left


def die_after_giving(address: str) -> None:
    """Make one worker of ``address`` kill itself just after its first hand-off is queued.

    Killing from the test's side hits a donor only if it is still running
    when its donation is read; this hits one as it gives. The worker the
    nanny starts in its place runs the code as it is (the patch dies with
    the process); the other worker is left alone, so that the search goes on
    while the new one starts.
    """
    from distributed import Client

    def install() -> None:
        from ctxcheck.parallel import remote

        give = remote.DaskChannel.give

        def give_and_die(channel: Any, donation: Any) -> None:
            give(channel, donation)
            if donation.given:
                os.kill(os.getpid(), signal.SIGKILL)

        remote.DaskChannel.give = give_and_die  # type: ignore[method-assign]

    with Client(address) as client:
        client.run(install, workers=sorted(client.nthreads())[:1])


def _searches(variant: str, cluster: str, knobs: dict[str, Any]) -> tuple[Outcome, Outcome]:
    """ctx_lifetime's search in one process, and split on ``cluster`` (no minimisation:
    minimising both would cost four times the searches; see the test after the next)."""
    from ctxcheck.explorers.dpor import DporExplorer
    from ctxcheck.loader import load_model
    from ctxcheck.parallel import run_split

    model = load_model("perf_counter.ctx_lifetime")
    config = model.config(variant, {})
    bounds = Bounds(max_steps=model.max_steps)
    single = DporExplorer(model, config, bounds).run()
    options = Options("dpor", Bounds(), knobs, jobs=2, cluster=cluster)
    return single, run_split(model, config, options, bounds)


def test_a_cluster_job_asked_for_work_hands_it_back(cluster: str) -> None:
    """ctx_lifetime pre split at depth 1: one job holds all the work (as c93f7669's own
    split does, below), so the idle worker's only work is what that job hands back when
    it is asked (no ``every``); the search finds what one process finds."""
    single, split = _searches("pre", cluster, {"split_depth": 1})
    assert split.stats.handoffs, "no job on the cluster handed work back"
    assert single.exhaustive and split.exhaustive
    assert sorted(split.discoveries) == sorted(single.discoveries) and single.discoveries
    assert split.stats.redundant == 0 and split.stats.reruns == 0


def test_hand_offs_on_a_cluster_give_the_minimal_counterexamples_of_one(cluster: str) -> None:
    target = "perf_counter.ctx_create"
    params: dict[str, Any] = {"variant": "mutant-no-cmpxchg", "openers": 2, "switches": 0}
    single = ctxcheck.check(target, **params)
    split = ctxcheck.check(target, options=cluster_options(cluster, every=3), **params)
    assert split.stats.handoffs
    assert single.violations and split.exhaustive and split.verdict == single.verdict
    assert findings(split) == findings(single)


if os.environ.get("CTXCHECK_LARGE"):
    # twice a search of about 10 s on a quiet machine (BENCHMARKS.md): the large run's

    @pytest.mark.slow
    def test_a_cluster_steals_where_c93f7669s_own_split_is_unequal(cluster: str) -> None:
        """ctx_lifetime c93f7669 at its defaults: the default split gives one job all
        the work (BENCHMARKS.md, "Work stealing")."""
        single, split = _searches("c93f7669", cluster, {})
        assert split.stats.handoffs, "no job on the cluster handed work back"
        assert single.exhaustive and split.exhaustive
        assert sorted(split.discoveries) == sorted(single.discoveries) and single.discoveries


def test_a_cluster_donor_killed_after_a_hand_off_reruns_only_what_it_kept(cluster: str) -> None:
    """The coordinator resubmits the donor's ``rest``: every trace once, none twice."""
    die_after_giving(cluster)
    split = ctxcheck.check(COUNTED, options=cluster_options(cluster, depth=1, every=4),
                           **COUNTED_CASE)  # fmt: skip
    assert split.stats.handoffs and split.stats.reruns >= 1
    assert split.exhaustive and split.verdict == "holds"
    assert split.stats.executions == 720


def test_a_scheduler_retrying_a_donor_runs_only_what_it_kept() -> None:
    """A scheduler at an address retries a lost task by itself (``allowed-failures``), with
    the job it was given: the retry must leave the job, as it now is, to the coordinator."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        retrying = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                dashboard_address=None, silence_logs=40)  # fmt: skip
    try:
        address = str(retrying.scheduler_address)
        die_after_giving(address)
        split = ctxcheck.check(COUNTED, options=cluster_options(address, depth=1, every=4),
                               **COUNTED_CASE)  # fmt: skip
        assert split.stats.handoffs and split.stats.reruns >= 1
        assert split.exhaustive and split.stats.executions == 720
    finally:
        retrying.close()


def test_two_searches_on_one_cluster_keep_apart_and_clean_up(cluster: str) -> None:
    """Both hand work back at once on the same scheduler; each counts its own traces."""
    before = _left_at(cluster)
    results: dict[int, Result] = {}

    def search(threads: int) -> None:
        options = cluster_options(cluster, depth=1, every=3)
        results[threads] = ctxcheck.check(COUNTED, variant="locked", threads=threads,
                                          options=options)  # fmt: skip

    runs = [threading.Thread(target=search, args=(n,)) for n in (5, 6)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=120)
    assert sorted(results) == [5, 6]
    for threads, traces in ((5, 120), (6, 720)):
        assert results[threads].stats.handoffs, threads
        assert results[threads].stats.executions == traces, threads
    for _ in range(40):  # a queue is released by a message, not a round trip
        if _left_at(cluster) == before:
            break
        time.sleep(0.05)
    assert _left_at(cluster) == before
