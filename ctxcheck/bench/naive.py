"""``ctxcheck bench --naive``: what naive would run where it cannot finish.

The naive explorer is the reference oracle, but on a faithful kernel model
it runs one execution per maximal path of the state graph, and there are
10^9 to 10^17 of those at the smallest bounds. This table says how many, per
variant (:func:`ctxcheck.oracles.statespace.count_paths`), and checks the same
thing naive would: the walk follows every transition of the unreduced
interleaving semantics, so the properties it sees violated are compared
with what ``dpor`` reports at the same bounds.

A spec is ``TARGET[:K=V,...]``: a model and the parameters to hold (the
others at the model's defaults), e.g. ``perf_counter.double_del:cpus=1``
(parsed by :mod:`ctxcheck.bench.specs`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ctxcheck.bench.markdown import num, params_text, table
from ctxcheck.bench.specs import NaiveSpec
from ctxcheck.bench.timing import stop_if_interrupted
from ctxcheck.explorers import get_explorer
from ctxcheck.loader import load_model
from ctxcheck.model import Model
from ctxcheck.options import Bounds
from ctxcheck.oracles.statespace import StateSpace, count_paths


@dataclass(frozen=True)
class NaiveRow:
    """One variant: its state graph counted, and dpor beside it."""

    model: str
    variant: str
    params: dict[str, int]
    space: StateSpace
    dpor_executions: int
    dpor_exhaustive: bool
    dpor_violated: frozenset[str]
    dpor_seconds: float

    @property
    def agree(self) -> str:
        """Whether the unreduced walk and dpor report the same violated properties."""
        if not (self.space.complete and self.dpor_exhaustive):
            return "-"
        return "yes" if self.space.violated == self.dpor_violated else "NO"


def naive_rows(
    model: Model,
    params: Mapping[str, int],
    cap: float,
    on_row: Callable[[NaiveRow], None] | None = None,
) -> list[NaiveRow]:
    """Every variant of ``model`` at ``params``: the walk, then dpor, each cut at ``cap``."""
    rows = []
    for variant in model.variants:
        config = model.config(variant.name, params)
        space = count_paths(model, config, timeout=cap)
        budget = Bounds(max_steps=model.max_steps, timeout=cap)
        dpor = get_explorer("dpor")(model, config, budget).run()
        stop_if_interrupted(dpor.stopped)
        row = NaiveRow(
            model=model.name, variant=config.variant, params=dict(config.params), space=space,
            dpor_executions=dpor.stats.executions, dpor_exhaustive=dpor.exhaustive,
            dpor_violated=frozenset(dpor.discoveries), dpor_seconds=dpor.stats.seconds,
        )  # fmt: skip
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def paths_text(space: StateSpace) -> str:
    """Naive's executions: a number, or why there is none."""
    if not space.complete:
        return "cut"
    if space.paths is None:
        return "unbounded (a cycle)"
    return num(space.paths) if space.paths < 10**9 else f"{space.paths:.2e}"


def _verdict(violated: frozenset[str], complete: bool) -> str:
    if violated:
        return ", ".join(sorted(violated))
    return "holds" if complete else "nothing found (cut)"


def naive_table(rows: Sequence[NaiveRow]) -> str:
    """The table of the section, one row per variant."""
    headers = ["model", "variant", "params", "states", "transitions", "naive would run",
               "walk: violated", "walk s", "dpor executions", "dpor: violated", "dpor s",
               "agree"]  # fmt: skip
    body = [
        [
            r.model, r.variant, params_text(r.params), num(r.space.states),
            num(r.space.edges), paths_text(r.space),
            _verdict(r.space.violated, r.space.complete), f"{r.space.seconds:.1f}",
            num(r.dpor_executions), _verdict(r.dpor_violated, r.dpor_exhaustive),
            f"{r.dpor_seconds:.1f}", r.agree,
        ]
        for r in rows
    ]  # fmt: skip
    return table(headers, body, align="lll" + "rrr" + "lrrlrl")


def naive_section(rows: Sequence[NaiveRow], cap: float, provenance: Sequence[str]) -> str:
    """``## What naive would run``: the table and how to read it."""
    return "\n".join([
        "## What naive would run",
        "",
        *provenance,
        "",
        "The naive explorer runs one execution per maximal path of the state graph. "
        "`ctxcheck.oracles.statespace.count_paths` walks the graph depth first, merging states by "
        "fingerprint (one replay per transition, like bfs), and counts those paths: "
        "`naive would run` is that count, `unbounded` where a retry loop closes a cycle "
        "(naive is then bounded only by `--max-steps`). The walk follows every transition of "
        "the unreduced interleaving semantics, so what it finds violated is the unreduced "
        "verdict; `agree` compares it with dpor at the same bounds (`-` where either was cut "
        f"at {cap:g} s). The tests check the path count against naive's executions where "
        "naive finishes (`tests/test_statespace.py`).",
        "",
        naive_table(rows),
        "",
    ])  # fmt: skip


def log_row(row: NaiveRow) -> None:
    """One line on stderr per variant measured (the table comes at the end)."""
    print(
        f"ctxcheck bench: {row.model} [{row.variant}] {params_text(row.params)}: naive would "
        f"run {paths_text(row.space)}; dpor {row.dpor_executions} executions, "
        f"agree: {row.agree}",
        file=sys.stderr,
        flush=True,
    )


def measure(
    specs: Sequence[NaiveSpec],
    cap: float,
    on_row: Callable[[NaiveRow], None] | None = None,
    paths: Sequence[str] = (),
) -> tuple[list[NaiveRow], float]:
    """Every spec's rows, and the seconds it all took."""
    start = time.monotonic()
    rows: list[NaiveRow] = []
    for spec in specs:
        rows += naive_rows(load_model(spec.target, paths), spec.params, cap, on_row)
    return rows, time.monotonic() - start
