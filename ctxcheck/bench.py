"""``ctxcheck bench``: how fast the explorers and the command line are, as Markdown.

Three measurements, each written as a table:

* every registered explorer on the example models (``models/examples``);
* every explorer on a scaling family: N threads, each doing two private
  accesses (a load and a store of its own cell) and one shared
  ``atomic_add_return``, for N = 2..8. The family has exactly N! Mazurkiewicz
  traces (the order of the increments), so the table also shows how close
  an explorer is to one run per trace. N stops growing for an explorer once
  a run hits the time cap;
* one whole ``ctxcheck check`` of a small model, start to exit, in a
  subprocess (median of several runs), and which heavy libraries that path
  imports (it should import none: a reviewer runs it dozens of times).

Speed is reported, never asserted: the numbers depend on the machine, which
the output names. Explorers that cannot be exhaustive (random walks) run
with a fixed execution budget instead.

Two more tables measure the models themselves, on request (``--models``,
``--scale``), because they take the better part of an hour and name models
the engine knows nothing about:

* every exhaustive explorer on every variant of every model under a prefix,
  at the model's ``proof_params`` (the bounds ``ctxcheck prove`` uses), each
  check cut at ``--cap`` seconds; with the ratio of each explorer's
  executions to the Mazurkiewicz trace count, which ``odpor`` gives when it
  finishes (it explores exactly one execution per trace);
* the scaling of one model in one parameter (``--scale
  TARGET:PARAM=A..B[,K=V...]``) under each exhaustive explorer, until a run
  is cut by ``--scale-cap``;
* what naive would run on models it cannot finish (``--naive
  TARGET[:K=V,...]``, :mod:`ctxcheck.bench_naive`).

The tables are written into the output file section by section: a section
the run produced replaces the section of the same heading, every other
section (other people's measurements) is kept where it is.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctxcheck.api import check
from ctxcheck.errors import UsageError
from ctxcheck.explorers import EXPLORERS, get_explorer
from ctxcheck.kernel import Kernel
from ctxcheck.loader import list_models, load_model
from ctxcheck.machine import Machine
from ctxcheck.model import Config, Model, Param
from ctxcheck.options import Bounds
from ctxcheck.primitives import Cell, Struct, field

#: libraries the ``check`` path must not import (they serve other commands)
HEAVY = ("networkx", "hypothesis", "graphviz", "rich", "pytest", "jsonschema")
#: executions given to explorers that are never exhaustive
SAMPLED_BUDGET = 2000
#: the model ``check`` is timed on
WALL_TARGET = ("examples.lost_update", "--variant", "atomic")


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


# ---------------------------------------------------------- the family


class _Counter(Struct):
    """The one shared word every thread increments."""

    _label = "shared"
    value: Cell = field(0)


class _Private(Struct):
    """A thread's own word."""

    _label = "own"
    value: Cell = field(0)


def _worker(k: Kernel, own: _Private, shared: _Counter) -> Generator[Any, Any, None]:
    """Two private accesses, then one shared one (its value seen: no two commute)."""
    v = yield k.load(own.value)
    yield k.store(own.value, v + 1)
    yield k.atomic_add_return(shared.value, 1)


def _family_setup(m: Machine, cfg: Config) -> _Counter:
    shared = m.new(_Counter)
    for i in range(cfg["threads"]):
        m.spawn(f"T{i}", _worker, m.new(_Private), shared)
    return shared


FAMILY = Model(
    name="bench.family",
    setup=_family_setup,
    doc="N threads: two private accesses and one shared atomic_add_return each (N! traces).",
    params=(Param("threads", 2, 1, 8, "number of threads"),),
)


# ---------------------------------------------------------- measuring


def _budget(explorer: str, cap: float) -> dict[str, Any]:
    if EXPLORERS[explorer].exhaustive_capable:
        return {"timeout": cap}
    return {"timeout": cap, "max_executions": SAMPLED_BUDGET, "seed": 1}


def _measure(explorer: str, label: str, target: Model | str, settings: Settings, **kw: Any) -> Row:
    """Check until ``settings.min_time`` has been spent, so that tiny runs give stable rates."""
    total = Row(explorer, label, "", 0, 0, 0, 0.0, False)
    while True:
        result = check(target, explorer=explorer, **_budget(explorer, settings.cap), **kw)
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


def _command() -> list[str]:
    exe = shutil.which("ctxcheck")
    return [exe] if exe else [sys.executable, "-m", "ctxcheck.cli"]


def wall_times(runs: int) -> list[float]:
    """Seconds of whole ``ctxcheck check`` runs, start to exit."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*_command(), "check", *WALL_TARGET], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def python_startup(runs: int) -> float:
    """Median seconds of ``python -c pass``: the floor under any command."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def imports_on_check_path() -> tuple[list[str], float]:
    """Top-level modules ``check`` imports, and the cumulative import time of ctxcheck (s)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ctxcheck.cli", "check", *WALL_TARGET],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    names: set[str] = set()
    ctxcheck_us = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        module = parts[2]
        names.add(module.split(".")[0])
        if module == "ctxcheck":
            ctxcheck_us = int(parts[1])
    return sorted(names), ctxcheck_us / 1e6


# ------------------------------------------------------------ reporting


def machine() -> str:
    """CPU model, cores, Python and OS: what the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at start"
    return (
        f"{cpu}; {os.cpu_count()} logical CPUs{load}; "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"{platform.system()} {platform.release()}"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table; ``align`` has an ``l`` or ``r`` per column (default: labels
    in the first column, numbers right-aligned in the others)."""
    align = align or "l" + "r" * (len(headers) - 1)
    head = "| " + " | ".join(headers) + " |"
    rule = "|" + "|".join("---" if a == "l" else "--:" for a in align) + "|"
    body = ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def _num(x: float) -> str:
    return f"{x:,.0f}"


def _rows_table(rows: list[Row], first: str) -> str:
    out = []
    for r in rows:
        verdict = r.verdict + (" (time cap)" if r.cut else "")
        out.append([
            r.label, r.explorer, verdict, _num(r.per_check), str(r.reps), _num(r.steps),
            f"{r.seconds:.2f}", _num(r.execs_per_s), _num(r.steps_per_s), f"{r.us_per_exec:.0f}",
        ])  # fmt: skip
    headers = [first, "explorer", "verdict", "executions", "runs", "steps", "seconds",
               "executions/s", "steps/s", "µs/execution"]  # fmt: skip
    return _table(headers, out)


def _scaling_text(rows: list[Row]) -> str:
    naive = {r.label: r for r in rows if r.explorer == "naive"}
    out = []
    for r in rows:
        ref = naive.get(r.label)
        ratio = f"{r.us_per_exec / ref.us_per_exec:.2f}" if ref and ref.us_per_exec else "-"
        traces = math.factorial(int(r.label))
        verdict = r.verdict + (" (time cap)" if r.cut else "")
        out.append([
            r.explorer, r.label, verdict, _num(r.per_check), _num(traces), str(r.reps),
            _num(r.steps), f"{r.seconds:.2f}", _num(r.execs_per_s), _num(r.steps_per_s),
            f"{r.us_per_exec:.0f}", ratio,
        ])  # fmt: skip
    headers = ["explorer", "N", "verdict", "executions", "traces (N!)", "runs", "steps",
               "seconds", "executions/s", "steps/s", "µs/execution",
               "cost/execution vs naive"]  # fmt: skip
    return _table(headers, out)


def _aggregate(rows: list[Row], explorer: str) -> float:
    steps = sum(r.steps for r in rows if r.explorer == explorer)
    seconds = sum(r.seconds for r in rows if r.explorer == explorer)
    return steps / seconds if seconds else 0.0


def _summary(scale: list[Row], wall: float, heavy: list[str]) -> list[str]:
    lines = [
        f"- naive: {_num(_aggregate(scale, 'naive'))} steps/s over all its family runs "
        f"(aim: 300,000 on one core)",
        f"- dpor: {_num(_aggregate(scale, 'dpor'))} steps/s over all its family runs",
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
        _table(
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


# ------------------------------------------------- the models' own tables

#: the explorers that can prove a property (issue 6's differential set); the
#: models' tables compare them, so sampling explorers have no place there
EXHAUSTIVE = ("naive", "dpor", "odpor", "bfs")
#: the explorer whose complete run counts the Mazurkiewicz traces: it
#: explores exactly one execution per trace (tests/test_differential.py)
TRACE_COUNTER = "odpor"
#: a model check shorter than this is repeated so that its rate is stable
MODEL_MIN_TIME = 0.5
SCALE_SYNTAX = "TARGET:PARAM=A..B[,K=V...], e.g. pkg.model:threads=2..6,cpus=1"


@dataclass
class CheckRow:
    """One check of a model: what the tables show of an explorer's outcome."""

    model: str
    variant: str
    explorer: str
    params: dict[str, int]
    verdict: str
    exhaustive: bool
    #: the time cap ended the search (the only cut a benchmark imposes)
    cut: bool
    stopped: str | None
    executions: int
    blocked: int
    states: int | None
    steps: int
    #: seconds of one check (the mean when it was repeated)
    seconds: float
    reps: int = 1

    @property
    def search(self) -> str:
        """``exhaustive``, ``cut``, or why else the search is incomplete."""
        if self.exhaustive:
            return "exhaustive"
        if self.cut:
            return "cut"
        return f"stopped: {self.stopped}" if self.stopped else "not exhaustive"

    @property
    def steps_per_s(self) -> float:
        """Steps executed per second."""
        return self.steps / self.seconds if self.seconds else 0.0

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, int], ...]]:
        """What two explorers must share for their executions to be compared."""
        return self.model, self.variant, tuple(sorted(self.params.items()))


def run_check(
    model: Model,
    variant: str,
    explorer: str,
    params: Mapping[str, int],
    cap: float,
    min_time: float = 0.0,
) -> CheckRow:
    """One check at ``params``, cut at ``cap`` seconds.

    The explorer is run directly rather than through :func:`ctxcheck.check`:
    a check builds and minimises a counterexample for every violation, which
    costs more than a small search and is no part of what is measured. The
    verdict is the one ``check`` gives (violated, else holds when exhaustive).

    A check that finishes in under ``min_time`` seconds is run again until
    that much time was spent, and its seconds are the mean: the explorers
    are deterministic, so every repetition explores the same executions,
    and a single run of a few milliseconds gives no usable rate.
    """
    config = model.config(variant, params)
    budget = Bounds(max_steps=model.max_steps, timeout=cap)
    cls = get_explorer(explorer)
    seconds = 0.0
    reps = 0
    while True:
        outcome = cls(model, config, budget).run()
        seconds += outcome.stats.seconds
        reps += 1
        cut = outcome.stopped is not None and outcome.stopped.startswith("timeout")
        if cut or seconds >= min_time:
            break
    s = outcome.stats
    verdict = (
        "violated" if outcome.discoveries else "holds" if outcome.exhaustive else "inconclusive"
    )
    return CheckRow(
        model=model.name, variant=config.variant, explorer=explorer, params=dict(config.params),
        verdict=verdict, exhaustive=outcome.exhaustive, cut=cut, stopped=outcome.stopped,
        executions=s.executions, blocked=s.blocked, states=s.states, steps=s.steps,
        seconds=seconds / reps, reps=reps,
    )  # fmt: skip


def select_models(prefix: str) -> list[Model]:
    """The models under ``prefix`` (as ``ctxcheck list PREFIX``), or a usage error."""
    models = list_models(prefix)
    if not models:
        known = ", ".join(m.name for m in list_models()) or "none found"
        raise UsageError(f"--models {prefix!r}: no model is named so; known models: {known}")
    return models


def model_rows(
    models: Sequence[Model],
    cap: float,
    explorers: Sequence[str] = EXHAUSTIVE,
    min_time: float | None = None,
    on_row: Callable[[CheckRow], None] | None = None,
) -> list[CheckRow]:
    """Every explorer on every variant of every model, at its proof parameters.

    Those are the bounds ``ctxcheck prove`` uses (the defaults where the
    model sets no ``proof_params``), so the table says what each explorer
    would cost in a proof. ``min_time`` defaults to :data:`MODEL_MIN_TIME`.
    """
    if min_time is None:
        min_time = MODEL_MIN_TIME
    rows: list[CheckRow] = []
    for model in models:
        for variant in model.variants:
            for name in explorers:
                row = run_check(model, variant.name, name, model.proof_params, cap, min_time)
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


@dataclass(frozen=True)
class ScaleSpec:
    """``--scale TARGET:PARAM=A..B[,K=V...]``: one parameter grown from A to B."""

    target: str
    param: str
    first: int
    last: int
    #: other parameters, held fixed (the rest are the model's defaults)
    fixed: Mapping[str, int]

    def text(self) -> str:
        """The spec as the command line gives it."""
        extra = "".join(f",{k}={v}" for k, v in self.fixed.items())
        return f"{self.target}:{self.param}={self.first}..{self.last}{extra}"


def _int(spec: str, key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(
            f"--scale {spec!r}: {key}={text!r} is not an integer; expected {SCALE_SYNTAX}"
        ) from None


def parse_scale(spec: str) -> ScaleSpec:
    """Parse ``--scale``; a malformed spec is a :class:`UsageError` (exit 2)."""
    target, sep, rest = spec.partition(":")
    if not sep or not target.strip() or not rest.strip():
        raise UsageError(f"--scale {spec!r}: expected {SCALE_SYNTAX}")
    ranged: tuple[str, int, int] | None = None
    fixed: dict[str, int] = {}
    for item in rest.split(","):
        key, eq, value = (x.strip() for x in item.partition("="))
        if not eq or not key or not value:
            raise UsageError(f"--scale {spec!r}: {item!r} is not K=V; expected {SCALE_SYNTAX}")
        if key in fixed or (ranged is not None and ranged[0] == key):
            raise UsageError(f"--scale {spec!r}: {key} is given twice")
        if ".." in value:
            if ranged is not None:
                raise UsageError(f"--scale {spec!r}: only one parameter can range (A..B)")
            low, _, high = value.partition("..")
            first, last = _int(spec, key, low), _int(spec, key, high)
            if first > last:
                raise UsageError(f"--scale {spec!r}: the range {value} is empty ({first} > {last})")
            ranged = (key, first, last)
        else:
            fixed[key] = _int(spec, key, value)
    if ranged is None:
        raise UsageError(f"--scale {spec!r}: no parameter ranges (PARAM=A..B); {SCALE_SYNTAX}")
    return ScaleSpec(target.strip(), ranged[0], ranged[1], ranged[2], fixed)


def validate_scale(spec: ScaleSpec, variant: str | None) -> tuple[Model, str]:
    """Load the target and check both ends of the range before anything runs.

    An unknown model, variant or parameter, or a value outside the
    parameter's range, is then a usage error at once rather than after an
    hour of measuring the other table.
    """
    model = load_model(spec.target)
    for value in (spec.first, spec.last):
        config = model.config(variant, {**spec.fixed, spec.param: value})
    return model, config.variant


def scale_rows(
    model: Model,
    variant: str,
    spec: ScaleSpec,
    cap: float,
    explorers: Sequence[str] = EXHAUSTIVE,
    on_row: Callable[[CheckRow], None] | None = None,
) -> list[CheckRow]:
    """Each explorer at PARAM = A, A+1, ... B, until its first run cut by ``cap``.

    Past a cut run the next value can only cost more and be cut as well, so
    the explorer's growth has been shown; the others go on.
    """
    rows: list[CheckRow] = []
    for name in explorers:
        for value in range(spec.first, spec.last + 1):
            params = {**spec.fixed, spec.param: value}
            row = run_check(model, variant, name, params, cap)
            rows.append(row)
            if on_row is not None:
                on_row(row)
            if row.cut:
                break
    return rows


def trace_counts(rows: Sequence[CheckRow]) -> dict[tuple[Any, ...], int]:
    """Mazurkiewicz trace counts, where :data:`TRACE_COUNTER` finished."""
    return {
        r.key: r.executions
        for r in rows
        if r.explorer == TRACE_COUNTER and r.exhaustive and not r.cut
    }


def _ratio(row: CheckRow, traces: Mapping[tuple[Any, ...], int]) -> str:
    count = traces.get(row.key)
    if not count:
        return "-"
    # a cut explorer would have explored at least as many: a lower bound
    return ("≥ " if not row.exhaustive else "") + f"{row.executions / count:.2f}"


def _states(row: CheckRow) -> str:
    return "-" if row.states is None else _num(row.states)


def _verdict(row: CheckRow) -> str:
    return row.verdict + (" (cut)" if row.cut else "")


def _exhaustive(row: CheckRow) -> str:
    if row.exhaustive:
        return "yes"
    return "no (cut)" if row.cut else "no"


def _params_text(params: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "none"


def model_table(rows: Sequence[CheckRow]) -> str:
    """The per model, variant and explorer table."""
    traces = trace_counts(rows)
    body = [
        [
            r.model, r.variant, r.explorer, _verdict(r), r.search, _num(r.executions),
            _states(r), _num(r.steps), f"{r.seconds:.2f}", _num(r.steps_per_s),
            _num(traces[r.key]) if r.key in traces else "-", _ratio(r, traces),
        ]
        for r in rows
    ]  # fmt: skip
    headers = ["model", "variant", "explorer", "verdict", "search", "executions", "states",
               "steps", "seconds", "steps/s", "traces", "executions/traces"]  # fmt: skip
    return _table(headers, body, align="lllll" + "r" * 7)


def scale_table(rows: Sequence[CheckRow], param: str) -> str:
    """The scaling table: one row per explorer and parameter value."""
    traces = trace_counts(rows)
    body = [
        [
            r.explorer, str(r.params[param]), _verdict(r), _exhaustive(r),
            _num(r.executions), _states(r), _num(r.steps),
            f"{r.seconds:.2f}", _num(traces[r.key]) if r.key in traces else "-",
            _ratio(r, traces),
        ]
        for r in rows
    ]  # fmt: skip
    headers = ["explorer", param, "verdict", "exhaustive", "executions", "states", "steps",
               "seconds", "traces", "executions/traces"]  # fmt: skip
    return _table(headers, body, align="lrll" + "r" * 6)


def _explorer_summary(rows: Sequence[CheckRow]) -> list[str]:
    """Per explorer: how many checks it finished, and its rate over all of them."""
    lines = []
    for name in dict.fromkeys(r.explorer for r in rows):
        mine = [r for r in rows if r.explorer == name]
        done = sum(1 for r in mine if r.exhaustive)
        cut = sum(1 for r in mine if r.cut)
        steps = sum(r.steps for r in mine)
        seconds = sum(r.seconds for r in mine)
        rate = _num(steps / seconds) if seconds else "-"
        lines.append(
            f"- {name}: exhaustive in {done} of {len(mine)} checks, cut in {cut}; "
            f"{rate} steps/s over all of them"
        )
    return lines


def _provenance(command: str, started: str, host: str, seconds: float) -> list[str]:
    return [
        f"Measured by `{command}`, started {started}; this table took {seconds / 60:.0f} min, "
        "in one process on one core.",
        f"Machine: {host}. The machine was shared with other jobs: the load average says "
        "how much of a core was ours, and the seconds are wall time.",
    ]


def models_section(
    prefix: str,
    models: Sequence[Model],
    rows: Sequence[CheckRow],
    cap: float,
    provenance: Sequence[str],
) -> str:
    """``## Explorers on the PREFIX models``: the table, its bounds and how to read it."""
    bounds = []
    for m in models:
        values = dict(m.config(None, m.proof_params).params)
        how = "`proof_params`" if m.proof_params else "defaults"
        bounds.append(f"- `{m.name}`: {_params_text(values)} ({how})")
    return "\n".join([
        f"## Explorers on the {prefix} models",
        "",
        *provenance,
        "",
        f"Each exhaustive explorer ({', '.join(EXHAUSTIVE)}) checks every variant of every "
        f"model at the bounds `ctxcheck prove` uses, cut at {cap:g} s. A check shorter "
        f"than {MODEL_MIN_TIME:g} s was repeated and `seconds` is its mean. `search` says "
        f"whether the search was exhaustive or cut by the time cap. `traces` is the "
        f"Mazurkiewicz trace count, known where {TRACE_COUNTER} finished (it explores "
        f"exactly one execution per trace); `executions/traces` divides each explorer's "
        f"executions by it (`≥` where the explorer was cut: a lower bound; `-` where the "
        f"count is unknown). dpor may come in under 1: its equivalence ignores the order "
        f"in which threads are created (`ctxcheck/explorers/deps.py`), which the trace "
        f"count distinguishes. bfs counts one execution per edge of the state graph it "
        f"replays, and reports the distinct states. A violated check went on to the end of "
        f"its search: the runs cut by a violation count as executions too.",
        "",
        "Bounds:",
        "",
        *bounds,
        "",
        model_table(rows),
        "",
        *_explorer_summary(rows),
        "",
    ])  # fmt: skip


def scale_section(
    spec: ScaleSpec,
    variant: str,
    rows: Sequence[CheckRow],
    cap: float,
    provenance: Sequence[str],
) -> str:
    """``## Scaling: TARGET``: the growth table and how it was cut."""
    fixed = _params_text(spec.fixed) if spec.fixed else "no other parameter"
    stopped = [f"{r.explorer} at {spec.param}={r.params[spec.param]}" for r in rows if r.cut]
    return "\n".join([
        f"## Scaling: {spec.target}",
        "",
        *provenance,
        "",
        f"Variant `{variant}`, {spec.param} = {spec.first}..{spec.last}, with {fixed} fixed "
        f"(the rest at the model's defaults). Each exhaustive explorer runs the values in "
        f"order, each check cut at {cap:g} s, and stops after its first cut run. "
        f"`traces` and `executions/traces` as above.",
        "",
        scale_table(rows, spec.param),
        "",
        "Cut runs (the last value tried by that explorer): "
        + (", ".join(stopped) if stopped else "none") + ".",
        "",
    ])  # fmt: skip


# ------------------------------------------------------------ sections


def _split(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text before the first ``## `` heading, and each section with its heading.

    Headings inside fenced code blocks are text, not sections.
    """
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    fenced = False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append((line.rstrip("\n").strip(), [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return "".join(preamble), [(h, "".join(lines)) for h, lines in sections]


def merge_sections(existing: str, generated: str) -> str:
    """``existing`` with each section of ``generated`` put in the place of its namesake.

    A generated section replaces the section with the same heading, wherever
    it is; a new one is appended; every other section stays as it was, so
    tables that other tools or people maintain in the same file survive a
    benchmark run. The generated preamble (text before its first section),
    if any, replaces the existing one.
    """
    old_pre, old = _split(existing)
    new_pre, new = _split(generated)
    fresh = dict(new)
    out = [new_pre if new_pre.strip() else old_pre]
    for heading, body in old:
        out.append(fresh.pop(heading, body))
    out.extend(fresh.values())
    parts = [p if p.endswith("\n\n") else p.rstrip("\n") + "\n\n" for p in out if p.strip()]
    return "".join(parts).rstrip("\n") + "\n"


def write_sections(output: str, generated: str) -> None:
    """Merge ``generated`` into the file ``output`` (created when missing)."""
    path = Path(output)
    existing = path.read_text() if path.exists() else "# ctxcheck benchmarks\n"
    path.write_text(merge_sections(existing, generated))


# --------------------------------------------------------------- main


def _bench_command(
    quick: bool,
    models: str | None,
    cap: float,
    scale: str | None,
    scale_cap: float,
    scale_variant: str | None,
    output: str | None,
    naive: Sequence[str] = (),
    naive_cap: float = 900.0,
) -> str:
    """The command line that reproduces this run, for the tables' provenance."""
    parts = ["ctxcheck bench"]
    if quick:
        parts.append("--quick")
    if models is not None:
        parts += ["--models", models, "--cap", f"{cap:g}"]
    if scale is not None:
        parts += ["--scale", scale, "--scale-cap", f"{scale_cap:g}"]
        if scale_variant:
            parts += ["--scale-variant", scale_variant]
    for spec in naive:
        parts += ["--naive", spec]
    if naive:
        parts += ["--naive-cap", f"{naive_cap:g}"]
    if output:
        parts += ["-o", output]
    return " ".join(parts)


def _log(row: CheckRow) -> None:
    params = _params_text(row.params)
    print(
        f"ctxcheck bench: {row.model} [{row.variant}] {params} {row.explorer}: "
        f"{_verdict(row)}, {row.search}, {row.executions} executions, {row.seconds:.2f}s",
        file=sys.stderr,
        flush=True,
    )


def main(
    quick: bool = False,
    output: str | None = None,
    models: str | None = None,
    cap: float = 20.0,
    scale: str | None = None,
    scale_cap: float = 300.0,
    scale_variant: str | None = None,
    naive: Sequence[str] = (),
    naive_cap: float = 900.0,
) -> int:
    """Entry point of ``ctxcheck bench``: print the tables, or merge them into ``output``.

    Without ``models``, ``scale`` and ``naive`` it measures the engine (the example
    models, the synthetic family, the check path). With either, it measures
    only what they ask for; each finished section is written at once, so an
    interrupted hour-long run keeps its first table.
    """
    if models is None and scale is None and not naive:
        text = report(QUICK if quick else FULL, quick)
        return _emit(output, text)
    # every option is validated before the first check runs
    selected = select_models(models) if models is not None else []
    spec = parse_scale(scale) if scale is not None else None
    target = validate_scale(spec, scale_variant) if spec is not None else None
    from ctxcheck import bench_naive  # it builds on this module's tables

    naive_specs = [bench_naive.parse_naive(text) for text in naive]
    for one in naive_specs:
        bench_naive.validate_naive(one)
    command = _bench_command(
        quick, models, cap, scale, scale_cap, scale_variant, output, naive, naive_cap
    )
    status = 0
    if models is not None:
        host, start, started = machine(), time.monotonic(), time.strftime("%Y-%m-%d %H:%M")
        rows = model_rows(selected, cap, on_row=_log)
        provenance = _provenance(command, started, host, time.monotonic() - start)
        status |= _emit(output, models_section(models, selected, rows, cap, provenance))
    if spec is not None and target is not None:
        host, start, started = machine(), time.monotonic(), time.strftime("%Y-%m-%d %H:%M")
        srows = scale_rows(target[0], target[1], spec, scale_cap, on_row=_log)
        provenance = _provenance(command, started, host, time.monotonic() - start)
        status |= _emit(output, scale_section(spec, target[1], srows, scale_cap, provenance))
    if naive_specs:
        host, started = machine(), time.strftime("%Y-%m-%d %H:%M")
        nrows, seconds = bench_naive.measure(naive_specs, naive_cap, on_row=bench_naive.log_row)
        provenance = _provenance(command, started, host, seconds)
        status |= _emit(output, bench_naive.naive_section(nrows, naive_cap, provenance))
    return status


def _emit(output: str | None, text: str) -> int:
    if output:
        write_sections(output, text)
        print(f"ctxcheck bench: wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
