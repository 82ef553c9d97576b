"""``ctxcheck bench --split``: one search in one process against the same search split N ways.

For each ``TARGET[:K=V,...]`` the check runs once in one process (``dpor``)
and once split over each number of jobs asked for (``--split-jobs``, 1,2,4
by default: more jobs than cores measures over-subscription). A row gives
the verdict and the violated properties (which must be the same in every
row of a target), the executions, the jobs handed out (and how many times
a running job handed part of its subtree back to an idle worker), the wall time and
the speed-up over the one-process search, what a step costs in processor
time (every process of the search: the coordinator and its workers, over the
steps run), and what a paper estimate of a larger split needs: how long the
jobs ran (median and longest) and how much processor time the coordinator
spent, which divided by the jobs is the cost of handing one out.

The cost of a step tells a split that is slow because its workers wait
(the same cost as one process, a lower speed-up) from one that is slow
because each step costs more (the workers busy, but sharing the machine
with each other or with other processes): on ctx_create at its defaults it
was the second (BENCHMARKS.md, "Split search: what a step costs").
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ctxcheck.bench.markdown import num, params_text, table
from ctxcheck.bench.specs import NaiveSpec, validate_naive
from ctxcheck.explorers import create_explorer
from ctxcheck.explorers.base import Outcome
from ctxcheck.options import Bounds, Options

#: how many jobs ``--split`` measures when ``--split-jobs`` is not given
DEFAULT_JOBS = (1, 2, 4)


@dataclass(frozen=True)
class SplitRow:
    """One check of one target, in one process (``jobs`` 0) or split over ``jobs``."""

    model: str
    params: dict[str, int]
    jobs: int
    verdict: str
    violated: tuple[str, ...]
    exhaustive: bool
    executions: int
    handed_out: int
    #: times a running job handed part of its subtree back (work stealing)
    handoffs: int
    reruns: int
    #: steps run, replays included (the stats' ``steps``)
    steps: int
    seconds: float
    coordinator_cpu: float
    #: processor seconds of every process of the search (the coordinator's and its workers')
    cpu: float
    job_median: float | None
    job_max: float | None


def _verdict(out: Outcome) -> str:
    if out.discoveries:
        return "violated"
    return "holds" if out.exhaustive else "inconclusive"


def measure_one(spec: NaiveSpec, jobs: int, paths: Sequence[str] = ()) -> SplitRow:
    """Check ``spec`` with dpor in one process (``jobs`` 0) or split over ``jobs``."""
    from ctxcheck.parallel import run_split

    model = validate_naive(spec, paths)
    config = model.config(None, spec.params)
    bounds = Bounds(max_steps=model.max_steps)
    sizes: list[float] = []
    cpu, start = time.process_time(), time.monotonic()
    children = _children_cpu()
    if jobs == 0:
        out = create_explorer(model, config, Options("dpor", bounds), bounds).run()
    else:
        out = run_split(model, config, Options("dpor", bounds, jobs=jobs), bounds,
                        job_seconds=sizes)  # fmt: skip
    seconds, cpu = time.monotonic() - start, time.process_time() - cpu
    workers = _children_cpu() - children  # the split's workers, reaped when its pool closed
    stats = out.stats
    return SplitRow(
        model.name, dict(config.params), jobs, _verdict(out), tuple(sorted(out.discoveries)),
        out.exhaustive, stats.executions, stats.jobs or 0, stats.handoffs or 0, stats.reruns or 0,
        stats.steps, seconds, cpu, cpu + workers,
        statistics.median(sizes) if sizes else None, max(sizes) if sizes else None,
    )  # fmt: skip


def _children_cpu() -> float:
    """Processor seconds of this process's children that have ended (and were waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def split_rows(
    specs: Sequence[NaiveSpec],
    jobs: Sequence[int] = DEFAULT_JOBS,
    on_row: Callable[[SplitRow], None] | None = None,
    paths: Sequence[str] = (),
) -> list[SplitRow]:
    """Each target in one process, then split over each of ``jobs``."""
    rows: list[SplitRow] = []
    for spec in specs:
        for n in (0, *jobs):
            row = measure_one(spec, n, paths)
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def log_row(row: SplitRow) -> None:
    """One line on stderr per check (the table comes at the end)."""
    how = "one process" if row.jobs == 0 else f"{row.jobs} jobs"
    print(
        f"ctxcheck bench: {row.model} {params_text(row.params)} ({how}): {row.verdict}, "
        f"{row.executions} executions, {row.seconds:.1f}s",
        file=sys.stderr,
        flush=True,
    )


def _seconds(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def split_table(rows: Sequence[SplitRow]) -> str:
    """The rows as Markdown, the speed-up over each target's one-process row."""
    base: dict[tuple[str, str], float] = {}
    body = []
    for r in rows:
        key = (r.model, params_text(r.params))
        if r.jobs == 0:
            base[key] = r.seconds
        one = base.get(key)
        speedup = f"{one / r.seconds:.2f}" if one and r.seconds > 0 else "-"
        per_job = f"{1000 * r.coordinator_cpu / r.handed_out:.1f}" if r.handed_out else "-"
        per_step = f"{1e6 * r.cpu / r.steps:.1f}" if r.steps else "-"
        body.append([
            r.model.split(".")[-1], key[1], "one process" if r.jobs == 0 else str(r.jobs),
            r.verdict, ", ".join(r.violated) or "-", "yes" if r.exhaustive else "no",
            num(r.executions), num(r.handed_out), num(r.handoffs), num(r.reruns),
            f"{r.seconds:.2f}", speedup, num(r.steps), f"{r.cpu:.2f}", per_step,
            _seconds(r.job_median), _seconds(r.job_max), f"{r.coordinator_cpu:.2f}", per_job,
        ])  # fmt: skip
    headers = ["model", "params", "jobs", "verdict", "violated", "exhaustive", "executions",
               "handed out", "hand-offs", "reruns", "seconds", "speed-up", "steps", "cpu s",
               "µs cpu per step", "job median s", "job max s", "coordinator cpu s",
               "ms cpu per job"]  # fmt: skip
    return table(headers, body, "l" * 6 + "r" * (len(headers) - 6))


def split_section(rows: Sequence[SplitRow], lines: Sequence[str]) -> str:
    """The ``Split search`` section of BENCHMARKS.md."""
    intro = (
        "Each target checked by `dpor` in one process, then split over N worker processes "
        "(`--jobs N`). Seconds are wall time of the search, the workers' start included; "
        "the coordinator's processor time covers exploring the top of the tree and "
        "replaying each job's prefix before handing it out; cpu s is every process's (the "
        "coordinator's and its workers'), and divided by the steps it is what a step costs. "
        "Hand-offs: times a running job gave part of its subtree back for an idle worker "
        "(work stealing). Verdict and violated properties must agree in every row of a target."
    )
    return "\n\n".join(["## Split search", *lines, intro, split_table(rows)]) + "\n"
