"""The engine's own benchmark: every explorer on the example models and the family.

Three measurements, each written as a table (:func:`report`):

* every registered explorer on the example models (``models/examples``);
* every explorer on the scaling family (:mod:`ctxcheck.bench.family`), for
  N = 2..8, N stopping for an explorer once a run hits the time cap;
* one whole ``ctxcheck check`` of a small model, start to exit, and which
  heavy libraries that path imports (:mod:`ctxcheck.bench.timing`).

Explorers that cannot be exhaustive (random walks) run with a fixed
execution budget instead.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Any

from ctxcheck.api import check
from ctxcheck.bench.family import FAMILY
from ctxcheck.bench.host import machine
from ctxcheck.bench.markdown import num, table
from ctxcheck.bench.timing import (
    HEAVY,
    WALL_TARGET,
    imports_on_check_path,
    python_startup,
    stop_if_interrupted,
    wall_times,
)
from ctxcheck.explorers import EXPLORERS
from ctxcheck.loader import list_models
from ctxcheck.model import Model

#: executions given to explorers that are never exhaustive
SAMPLED_BUDGET = 2000


@dataclass
class Settings:
    """Sizes and caps of one benchmark run."""

    max_threads: int
    #: time cap of one check: N stops growing past a run that hits it
    cap: float
    example_threads: int
    wall_runs: int
    #: a quick check is repeated until this many seconds were measured
    min_time: float


QUICK = Settings(max_threads=4, cap=2.0, example_threads=2, wall_runs=3, min_time=0.1)
FULL = Settings(max_threads=8, cap=20.0, example_threads=3, wall_runs=7, min_time=0.5)


@dataclass
class Row:
    """One measured check."""

    explorer: str
    label: str
    verdict: str
    executions: int
    blocked: int
    steps: int
    seconds: float
    cut: bool
    #: how many times the check ran (the totals above are over all of them)
    reps: int = 0

    @property
    def per_check(self) -> int:
        """Executions of one check (every repetition explores the same ones)."""
        return self.executions // max(self.reps, 1)

    @property
    def execs_per_s(self) -> float:
        """Executions (including blocked ones) per second."""
        return (self.executions + self.blocked) / self.seconds if self.seconds else 0.0

    @property
    def steps_per_s(self) -> float:
        """Steps executed per second."""
        return self.steps / self.seconds if self.seconds else 0.0

    @property
    def us_per_exec(self) -> float:
        """Microseconds per execution: the cost of one run of the model."""
        runs = self.executions + self.blocked
        return self.seconds / runs * 1e6 if runs else 0.0


def _budget(explorer: str, cap: float) -> dict[str, Any]:
    if EXPLORERS[explorer].exhaustive_capable:
        return {"timeout": cap}
    return {"timeout": cap, "max_executions": SAMPLED_BUDGET, "seed": 1}


def _measure(explorer: str, label: str, target: Model | str, settings: Settings, **kw: Any) -> Row:
    """Check until ``settings.min_time`` has been spent, so that tiny runs give stable rates."""
    total = Row(explorer, label, "", 0, 0, 0, 0.0, False)
    while True:
        result = check(target, explorer=explorer, **_budget(explorer, settings.cap), **kw)
        stop_if_interrupted(result.stopped)
        s = result.stats
        total.verdict = result.verdict
        total.executions += s.executions
        total.blocked += s.blocked
        total.steps += s.steps
        total.seconds += s.seconds
        total.reps += 1
        total.cut = result.stopped is not None and result.stopped.startswith("timeout")
        if total.cut or total.seconds >= settings.min_time:
            return total


def examples(settings: Settings) -> list[Row]:
    """Every explorer on every variant of every example model."""
    rows: list[Row] = []
    for model in list_models("examples"):
        params = {p.name: settings.example_threads for p in model.params if p.name == "threads"}
        for variant in model.variants:
            label = f"{model.name} [{variant.name}]" + "".join(
                f" {k}={v}" for k, v in params.items()
            )
            for name in EXPLORERS:
                rows.append(_measure(name, label, model, settings, variant=variant.name, **params))
    return rows


def scaling(settings: Settings) -> list[Row]:
    """Every explorer on the family, N = 2.. until a run hits the cap."""
    rows: list[Row] = []
    for name in EXPLORERS:
        for n in range(2, settings.max_threads + 1):
            row = _measure(name, str(n), FAMILY, settings, threads=n)
            rows.append(row)
            if row.cut:
                break
    return rows


def _rows_table(rows: list[Row], first: str) -> str:
    out = []
    for r in rows:
        verdict = r.verdict + (" (time cap)" if r.cut else "")
        out.append([
            r.label, r.explorer, verdict, num(r.per_check), str(r.reps), num(r.steps),
            f"{r.seconds:.2f}", num(r.execs_per_s), num(r.steps_per_s), f"{r.us_per_exec:.0f}",
        ])  # fmt: skip
    headers = [first, "explorer", "verdict", "executions", "runs", "steps", "seconds",
               "executions/s", "steps/s", "µs/execution"]  # fmt: skip
    return table(headers, out)


def _scaling_text(rows: list[Row]) -> str:
    naive = {r.label: r for r in rows if r.explorer == "naive"}
    out = []
    for r in rows:
        ref = naive.get(r.label)
        ratio = f"{r.us_per_exec / ref.us_per_exec:.2f}" if ref and ref.us_per_exec else "-"
        traces = math.factorial(int(r.label))
        verdict = r.verdict + (" (time cap)" if r.cut else "")
        out.append([
            r.explorer, r.label, verdict, num(r.per_check), num(traces), str(r.reps),
            num(r.steps), f"{r.seconds:.2f}", num(r.execs_per_s), num(r.steps_per_s),
            f"{r.us_per_exec:.0f}", ratio,
        ])  # fmt: skip
    headers = ["explorer", "N", "verdict", "executions", "traces (N!)", "runs", "steps",
               "seconds", "executions/s", "steps/s", "µs/execution",
               "cost/execution vs naive"]  # fmt: skip
    return table(headers, out)


def _aggregate(rows: list[Row], explorer: str) -> float:
    steps = sum(r.steps for r in rows if r.explorer == explorer)
    seconds = sum(r.seconds for r in rows if r.explorer == explorer)
    return steps / seconds if seconds else 0.0


def _summary(scale: list[Row], wall: float, heavy: list[str]) -> list[str]:
    lines = [
        f"- naive: {num(_aggregate(scale, 'naive'))} steps/s over all its family runs "
        f"(aim: 300,000 on one core)",
        f"- dpor: {num(_aggregate(scale, 'dpor'))} steps/s over all its family runs",
    ]
    naive = {r.label: r for r in scale if r.explorer == "naive"}
    ratios = [
        (d.label, d.us_per_exec / naive[d.label].us_per_exec)
        for d in scale
        if d.explorer == "dpor" and d.label in naive and naive[d.label].us_per_exec
    ]
    if ratios:
        text = ", ".join(f"{r:.2f}x (N={n})" for n, r in ratios)
        lines.append(
            f"- dpor cost per execution relative to naive, same N: {text} (aim: within 3x)"
        )
    dpor_exact = [r.label for r in scale if r.explorer == "dpor" and not r.cut
                  and r.per_check == math.factorial(int(r.label))]  # fmt: skip
    if dpor_exact:
        lines.append(f"- dpor explored exactly N! executions for N = {', '.join(dpor_exact)}")
    lines.append(
        f"- `ctxcheck check {' '.join(WALL_TARGET)}`: {wall:.3f} s median, start to exit "
        f"(aim: under 0.3 s)"
    )
    lines.append("- heavy imports on the check path: " + (", ".join(heavy) or "none"))
    return lines


def report(settings: Settings, quick: bool) -> str:
    """Run every measurement and return the Markdown document."""
    started = time.strftime("%Y-%m-%d %H:%M")
    header = machine()
    example_rows = examples(settings)
    scale_rows = scaling(settings)
    walls = wall_times(settings.wall_runs)
    floor = python_startup(settings.wall_runs)
    modules, ctxcheck_import = imports_on_check_path()
    heavy = [m for m in HEAVY if m in modules]
    wall = statistics.median(walls)
    mode = "quick" if quick else "full"
    parts = [
        "# ctxcheck benchmarks",
        "",
        f"Measured by `ctxcheck bench{' --quick' if quick else ''}` ({mode} run, {started}).",
        f"Machine: {header}.",
        f"Time cap per check: {settings.cap:g} s (a capped run still measures a rate); "
        f"explorers that are never exhaustive get {SAMPLED_BUDGET} executions; a check "
        f"shorter than {settings.min_time:g} s is repeated and the totals are shown.",
        "The machine is shared: the load average above says how much of a core was ours.",
        "",
        "## Summary",
        "",
        *_summary(scale_rows, wall, heavy),
        "",
        "## Explorers on the example models",
        "",
        _rows_table(example_rows, "model"),
        "",
        "## Scaling family",
        "",
        FAMILY.doc,
        "`executions` is per check (equal to `traces`: one execution per trace); `runs` is "
        "how often the check was repeated; steps, seconds and rates are totals over the runs.",
        "",
        _scaling_text(scale_rows),
        "",
        "## `ctxcheck check`, start to exit",
        "",
        table(
            ["measure", "seconds"],
            [
                [
                    f"`ctxcheck check {' '.join(WALL_TARGET)}`, median of {len(walls)}",
                    f"{wall:.3f}",
                ],
                ["fastest / slowest run", f"{min(walls):.3f} / {max(walls):.3f}"],
                ["`python -c pass` (interpreter start, median)", f"{floor:.3f}"],
                ["`import ctxcheck` (cumulative, -X importtime)", f"{ctxcheck_import:.3f}"],
            ],
        ),
        "",
        f"Heavy libraries imported on this path ({', '.join(HEAVY)}): "
        + (", ".join(heavy) if heavy else "none")
        + ".",
        "",
    ]
    return "\n".join(parts)
