"""The models' own tables: every exhaustive explorer on every variant, and scaling.

Run on request (``ctxcheck bench --models PREFIX``, ``--scale SPEC``),
because they take the better part of an hour and name models the engine
knows nothing about:

* every exhaustive explorer on every variant of every model under a prefix,
  at the model's ``proof_params`` (the bounds ``ctxcheck prove`` uses), each
  check cut at ``--cap`` seconds; with the ratio of each explorer's
  executions to the Mazurkiewicz trace count, which ``odpor`` gives when it
  finishes (it explores exactly one execution per trace);
* the scaling of one model in one parameter under each exhaustive
  explorer, until a run is cut by ``--scale-cap``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctxcheck.bench.markdown import num, params_text, table
from ctxcheck.bench.specs import ScaleSpec
from ctxcheck.bench.timing import stop_if_interrupted
from ctxcheck.explorers import get_explorer
from ctxcheck.model import Model
from ctxcheck.options import Bounds

#: the explorers that can prove a property (issue 6's differential set); the
#: models' tables compare them, so sampling explorers have no place there
EXHAUSTIVE = ("naive", "dpor", "odpor", "bfs")
#: the explorer whose complete run counts the Mazurkiewicz traces: it
#: explores exactly one execution per trace (tests/test_differential.py)
TRACE_COUNTER = "odpor"
#: a model check shorter than this is repeated so that its rate is stable
MODEL_MIN_TIME = 0.5


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
        stop_if_interrupted(outcome.stopped)
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
    return "-" if row.states is None else num(row.states)


def verdict_text(row: CheckRow) -> str:
    return row.verdict + (" (cut)" if row.cut else "")


def _exhaustive(row: CheckRow) -> str:
    if row.exhaustive:
        return "yes"
    return "no (cut)" if row.cut else "no"


def model_table(rows: Sequence[CheckRow]) -> str:
    """The per model, variant and explorer table."""
    traces = trace_counts(rows)
    body = [
        [
            r.model, r.variant, r.explorer, verdict_text(r), r.search, num(r.executions),
            _states(r), num(r.steps), f"{r.seconds:.2f}", num(r.steps_per_s),
            num(traces[r.key]) if r.key in traces else "-", _ratio(r, traces),
        ]
        for r in rows
    ]  # fmt: skip
    headers = ["model", "variant", "explorer", "verdict", "search", "executions", "states",
               "steps", "seconds", "steps/s", "traces", "executions/traces"]  # fmt: skip
    return table(headers, body, align="lllll" + "r" * 7)


def scale_table(rows: Sequence[CheckRow], param: str) -> str:
    """The scaling table: one row per explorer and parameter value."""
    traces = trace_counts(rows)
    body = [
        [
            r.explorer, str(r.params[param]), verdict_text(r), _exhaustive(r),
            num(r.executions), _states(r), num(r.steps),
            f"{r.seconds:.2f}", num(traces[r.key]) if r.key in traces else "-",
            _ratio(r, traces),
        ]
        for r in rows
    ]  # fmt: skip
    headers = ["explorer", param, "verdict", "exhaustive", "executions", "states", "steps",
               "seconds", "traces", "executions/traces"]  # fmt: skip
    return table(headers, body, align="lrll" + "r" * 6)


def _explorer_summary(rows: Sequence[CheckRow]) -> list[str]:
    """Per explorer: how many checks it finished, and its rate over all of them."""
    lines = []
    for name in dict.fromkeys(r.explorer for r in rows):
        mine = [r for r in rows if r.explorer == name]
        done = sum(1 for r in mine if r.exhaustive)
        cut = sum(1 for r in mine if r.cut)
        steps = sum(r.steps for r in mine)
        seconds = sum(r.seconds for r in mine)
        rate = num(steps / seconds) if seconds else "-"
        lines.append(
            f"- {name}: exhaustive in {done} of {len(mine)} checks, cut in {cut}; "
            f"{rate} steps/s over all of them"
        )
    return lines


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
        bounds.append(f"- `{m.name}`: {params_text(values)} ({how})")
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
    fixed = params_text(spec.fixed) if spec.fixed else "no other parameter"
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


def log_row(row: CheckRow) -> None:
    """One line on stderr per check measured (the table comes at the end)."""
    print(
        f"ctxcheck bench: {row.model} [{row.variant}] {params_text(row.params)} {row.explorer}: "
        f"{verdict_text(row)}, {row.search}, {row.executions} executions, {row.seconds:.2f}s",
        file=sys.stderr,
        flush=True,
    )
