"""A split search (``--jobs``, ``--cluster``) finds what one dpor process finds.

The split is a reduction of its own kind (a search cut into subtrees run in
any order), so it is held to the single-process search: on generated
programs at several split depths, and on every (model, variant) of the
perf_counter proof, the verdict, the violated properties and the length of
each minimal counterexample are those of ``jobs=1``; every split search is
exhaustive and runs no subtree twice. Killing workers mid-search loses
nothing: the dead workers' jobs run again (``reruns``) and the verdict is
still exhaustive. The Dask backend is checked the same way on a local
cluster of two workers; ctx_create at its defaults on that cluster is part
of the large run (``CTXCHECK_LARGE=1``), being minutes long.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ctxcheck
from ctxcheck.errors import UsageError
from ctxcheck.explorers.base import Outcome
from ctxcheck.loader import list_models
from ctxcheck.model import Model
from ctxcheck.options import Bounds, Options
from ctxcheck.oracles.programs import Instr, Program, programs
from ctxcheck.result import Result


def split_options(
    jobs: int, depth: int | None = None, cluster: str | None = None, every: int | None = None
) -> Options:
    """A split over ``jobs``; with ``every``, each job hands work back every that many runs."""
    knobs: dict[str, Any] = {} if depth is None else {"split_depth": depth}
    if every is not None:
        knobs.update(handoff_every=every, handoff_after=0)
    return Options("dpor", Bounds(), knobs, jobs=jobs, cluster=cluster)


def findings(result: Result) -> list[tuple[str, int]]:
    """Each violated property with the length of its minimal counterexample."""
    return sorted((v.property, v.steps) for v in result.violations)


def assert_same(single: Result, split: Result, what: str) -> None:
    assert split.exhaustive, what
    assert split.verdict == single.verdict, what
    assert findings(split) == findings(single), what
    assert split.stats.redundant == 0 and split.stats.reruns == 0, what
    assert split.stats.jobs is not None, what


# -- generated programs ------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_interleavings=400), st.integers(1, 4))
def test_a_split_search_agrees_with_one_process_on_generated_programs(
    program: Program, depth: int
) -> None:
    model = program.model()
    single = ctxcheck.check(model, options=split_options(1))
    split = ctxcheck.check(model, options=split_options(2, depth))
    assert_same(single, split, f"{program!r} split at depth {depth}")


# -- jobs that hand work back (work stealing) ---------------------------------------------
# Without invariants the dependence of two steps never changes during a
# search, so source-DPOR with sleep sets runs exactly one execution per
# trace whatever the order: a split that hands work back must run the same
# number as one process, not merely reach the same verdict. (With
# invariants, what they read is learnt as the search goes, and learning it
# sooner makes more writes dependent: counts then differ a little, as the
# fixed split's do; see BENCHMARKS.md, "Split search".)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(programs(max_interleavings=3000, invariants=False), programs(max_interleavings=1500)),
    st.integers(1, 3),
    st.integers(1, 3),
)
def test_jobs_handing_work_back_run_what_one_process_runs(
    program: Program, depth: int, every: int
) -> None:
    model = program.model()
    single = ctxcheck.check(model, options=split_options(1))
    split = ctxcheck.check(model, options=split_options(2, depth, every=every))
    what = f"{program!r} split at depth {depth}, handing work back every {every} runs"
    assert_same(single, split, what)
    if program.invariant is None:
        assert split.stats.executions == single.stats.executions, what


def _writers(n: int) -> Program:
    """n threads that store to one cell: n! traces."""
    return Program(tuple((Instr("store", (0, i)),) for i in range(n)), final_bad=99)


def _choosers(n: int) -> Program:
    """n <= 3 threads that each store one of 3 values to a cell of their own: 3^n traces."""
    return Program(tuple((Instr("choose", (i, 3)),) for i in range(n)), final_bad=99)


@pytest.mark.parametrize(
    ("program", "traces"), [(_writers(5), 120), (_choosers(3), 27)], ids=["writers", "choosers"]
)
def test_hand_offs_keep_one_execution_per_trace(program: Program, traces: int) -> None:
    """Known counts, with hand-offs certain to happen (threads and outcomes given away)."""
    split = ctxcheck.check(program.model(), options=split_options(2, depth=1, every=1))
    assert split.exhaustive and split.verdict == "holds"
    assert split.stats.handoffs is not None and split.stats.handoffs >= 2
    assert split.stats.executions == traces
    assert split.stats.redundant == 0 and split.stats.reruns == 0


def test_hand_offs_give_the_minimal_counterexamples_of_one() -> None:
    target = "perf_counter.ctx_create"
    params: dict[str, Any] = {"variant": "mutant-no-cmpxchg", "openers": 2, "switches": 0}
    single = ctxcheck.check(target, **params)
    split = ctxcheck.check(target, options=split_options(2, every=3), **params)
    assert single.violations
    assert_same(single, split, "ctx_create [mutant-no-cmpxchg], handing work back")
    assert split.stats.handoffs


def test_hand_off_settings_are_checked() -> None:
    bad = Options("dpor", Bounds(), {"handoff_every": 0}, jobs=2)
    with pytest.raises(UsageError, match="handoff_every=0"):
        ctxcheck.check("perf_counter.ctx_create", options=bad, openers=1)
    bad = Options("dpor", Bounds(), {"handoff_after": -1}, jobs=2)
    with pytest.raises(UsageError, match="handoff_after=-1"):
        ctxcheck.check("perf_counter.ctx_create", options=bad, openers=1)


# -- the perf_counter proof --------------------------------------------------------------
@functools.cache
def perf_counter_cases() -> list[tuple[Model, str]]:
    return [(m, v.name) for m in list_models("perf_counter") for v in m.variants]


def _case_id(case: tuple[Model, str]) -> str:
    return f"{case[0].name.split('.')[-1]}[{case[1]}]"


def _search(model: Model, variant: str, jobs: int) -> Outcome:
    """The search alone (no minimisation): what the split changes."""
    from ctxcheck.explorers.dpor import DporExplorer
    from ctxcheck.parallel import run_split

    config = model.config(variant, dict(model.proof_params))
    bounds = Bounds(max_steps=model.max_steps)
    if jobs == 1:
        return DporExplorer(model, config, bounds).run()
    return run_split(model, config, split_options(jobs), bounds)


@pytest.mark.parametrize("case", perf_counter_cases(), ids=_case_id)
def test_two_jobs_prove_what_one_proves(case: tuple[Model, str]) -> None:
    """Verdict and violated properties on every variant of the proof.

    The searches only: minimising twice would double the cost of the
    comparison, and minimal lengths are compared on generated programs
    above and on ctx_create below.
    """
    model, variant = case
    single, split = _search(model, variant, 1), _search(model, variant, 2)
    what = f"{model.name} [{variant}]"
    assert single.exhaustive and split.exhaustive, what
    assert sorted(split.discoveries) == sorted(single.discoveries), what
    assert split.stats.redundant == 0 and split.stats.reruns == 0, what


def test_two_jobs_give_the_minimal_counterexamples_of_one() -> None:
    target = "perf_counter.ctx_create"
    single = ctxcheck.check(target, variant="mutant-no-cmpxchg", openers=2, switches=0)
    split = ctxcheck.check(target, variant="mutant-no-cmpxchg", openers=2, switches=0, jobs=2)
    assert single.violations
    assert_same(single, split, "ctx_create [mutant-no-cmpxchg]")


# -- faults -------------------------------------------------------------------------------
def _children() -> list[int]:
    """Our child processes that are workers (not multiprocessing's resource tracker)."""
    me = os.getpid()
    out: list[int] = []
    for task in Path(f"/proc/{me}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"resource_tracker" not in cmd:
                out.append(int(pid))
    return out


class WorkerKiller:
    """A progress hook that kills every worker once, when the first job is back."""

    def __init__(self) -> None:
        self.killed: list[int] = []

    def __call__(self, stats: Any) -> None:
        if self.killed:
            return
        for pid in _children():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.killed.append(pid)


#: a proof of ~5 s in one process (758 executions) that a deep split cuts into tens of jobs
FAULT_CASE: dict[str, Any] = {"openers": 2, "switches": 1}
FAULT_TARGET = "perf_counter.ctx_create"


def test_killing_the_workers_mid_search_loses_nothing() -> None:
    killer = WorkerKiller()
    split = ctxcheck.check(
        FAULT_TARGET, variant="post", progress=killer, options=split_options(2, depth=6),
        **FAULT_CASE,
    )  # fmt: skip
    assert killer.killed, "no worker was running when the first job came back"
    assert split.stats.reruns >= 1
    assert split.exhaustive and split.verdict == "holds"
    assert split.stats.executions >= 758  # all of one process's, and the reruns' own


class DonorKiller(WorkerKiller):
    """Kills every worker once, as soon as a job has handed work back."""

    def __call__(self, stats: Any) -> None:
        if stats.handoffs:
            super().__call__(stats)


def test_killing_workers_after_a_hand_off_loses_and_repeats_nothing() -> None:
    """The donor's rerun covers only what it kept; what it had reported is redundant.

    A program without invariants has a known count (6! traces), which the
    search must still run exactly once each, reruns and all.
    """
    killer = DonorKiller()
    split = ctxcheck.check(_writers(6).model(), progress=killer,
                           options=split_options(2, depth=1, every=4))  # fmt: skip
    assert killer.killed, "no worker was running when the first hand-off came"
    assert split.stats.reruns and split.stats.reruns >= 1
    assert split.exhaustive and split.verdict == "holds"
    assert split.stats.executions == 720


def test_killing_workers_after_a_hand_off_in_ctx_create_still_proves_it() -> None:
    killer = DonorKiller()
    split = ctxcheck.check(
        FAULT_TARGET, variant="post", progress=killer, options=split_options(2, every=5),
        **FAULT_CASE,
    )  # fmt: skip
    assert killer.killed and split.stats.handoffs
    assert split.stats.reruns and split.stats.reruns >= 1
    assert split.exhaustive and split.verdict == "holds"
    assert split.stats.executions >= 758


def test_a_split_needs_dpor_and_a_whole_number_of_jobs() -> None:
    with pytest.raises(UsageError, match="explorer 'bfs' runs in one process"):
        ctxcheck.check("perf_counter.ctx_create", explorer="bfs", jobs=2, openers=1)
    with pytest.raises(UsageError, match="whole number"):
        Options("dpor", Bounds(), jobs=-1)


def test_jobs_on_the_command_line_reports_the_split() -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from ctxcheck.cli import main; raise SystemExit(main())", "check",
         "perf_counter.ctx_create", "--param", "openers=2", "--jobs", "2", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    import json

    stats = json.loads(run.stdout)["stats"]
    assert stats["jobs"] >= 1 and stats["reruns"] == 0 and stats["redundant"] == 0


# -- Dask ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster() -> Any:
    """A local Dask cluster of two worker processes, shared by the tests below."""
    from ctxcheck.parallel.cluster import shared_cluster

    with shared_cluster("local", 2) as address:
        yield address


def test_a_local_cluster_proves_ctx_create(cluster: str) -> None:
    """Two openers and a context switch: the cluster's verdict is one process's."""
    single = ctxcheck.check(FAULT_TARGET, variant="post", **FAULT_CASE)
    split = ctxcheck.check(FAULT_TARGET, variant="post", cluster=cluster, **FAULT_CASE)
    assert_same(single, split, "ctx_create on a local cluster")


if os.environ.get("CTXCHECK_LARGE"):
    # ctx_create at its defaults (3 openers, a switch) takes minutes on two
    # workers (BENCHMARKS.md, "Split search"): too long for CI's budget, so it
    # is part of the large run, ``CTXCHECK_LARGE=1 pytest tests/test_parallel.py``

    @pytest.mark.slow
    def test_a_local_cluster_proves_ctx_create_at_its_defaults(cluster: str) -> None:
        model = next(m for m in list_models("perf_counter") if m.name.endswith("ctx_create"))
        expected = next(e for e in model.expectations if e.variant == "post")
        result = ctxcheck.check(model.name, variant="post", cluster=cluster)
        assert result.exhaustive
        assert result.verdict == ("holds" if expected.holds else "violated")
        assert result.params == {p.name: p.default for p in model.params}
        assert result.stats.redundant == 0


def test_killed_cluster_workers_lose_nothing(cluster: str) -> None:
    killed: list[int] = []

    def kill_one(stats: Any) -> None:
        if not killed:
            from distributed import Client

            with Client(cluster) as client:
                if not any(client.processing().values()):
                    return  # no job out yet: try at the next report
                pids = list(client.run(os.getpid).values())
            for pid in pids:  # the one running a job may be either: both die
                os.kill(pid, signal.SIGKILL)
            killed.extend(pids)

    split = ctxcheck.check(
        FAULT_TARGET, variant="post", progress=kill_one,
        options=split_options(2, depth=6, cluster=cluster), **FAULT_CASE,
    )  # fmt: skip
    assert killed
    assert split.stats.reruns >= 1
    assert split.exhaustive and split.verdict == "holds"
    assert split.stats.executions >= 758


def test_without_dask_the_cluster_flag_says_how_to_install_it(tmp_path: Path) -> None:
    blocker = tmp_path / "distributed.py"
    blocker.write_text("raise ImportError('not installed here')\n")
    run = subprocess.run(
        [sys.executable, "-c", "from ctxcheck.cli import main; raise SystemExit(main())", "check",
         "perf_counter.ctx_create", "--param", "openers=1", "--cluster", "local"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])},
    )  # fmt: skip
    assert run.returncode == 2
    assert "pip install 'ctxcheck[cluster]'" in run.stderr
    assert "Traceback" not in run.stderr


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _workers_of(proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> list[int]:
    """The pids of ``proc``'s two pool workers, once both run."""
    import time

    workers: list[int] = []
    for _ in range(300):
        tasks = Path(f"/proc/{proc.pid}/task")
        workers = [int(p) for t in tasks.iterdir() for p in (t / "children").read_text().split()]
        if len(workers) >= 2:
            return workers
        time.sleep(0.05)
    raise AssertionError("the workers never started")


def test_ctrl_c_stops_every_worker_and_prints_the_partial_statistics() -> None:
    import json
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", "from ctxcheck.cli import main; raise SystemExit(main())",
         "check", "perf_counter.ctx_create", "--jobs", "2", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # pytest-xdist runs tests with SIGINT ignored, which a child inherits
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        workers = _workers_of(proc)
        time.sleep(3.0)  # the search is under way (ctx_create at its defaults takes minutes)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    data = json.loads(out)
    assert data["stopped"] == "interrupted" and not data["exhaustive"]
    assert data["stats"]["jobs"] >= 1
    assert "Traceback" not in err
    assert not [pid for pid in workers if _alive(pid)]


def test_workers_of_a_killed_coordinator_exit() -> None:
    """SIGKILL closes no pipe a sibling worker also holds: the workers see their parent go."""
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", "from ctxcheck.cli import main; raise SystemExit(main())",
         "check", "perf_counter.ctx_create", "--jobs", "2", "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: list[int] = []
    try:
        workers = _workers_of(proc)
        time.sleep(2.0)  # jobs are out
        proc.kill()
        proc.wait(timeout=30)
        for _ in range(100):  # a worker between runs, or idle, notices within a second
            if not [pid for pid in workers if _alive(pid)]:
                break
            time.sleep(0.1)
        left = [pid for pid in workers if _alive(pid)]
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived their coordinator"
