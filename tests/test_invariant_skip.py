"""An invariant is judged again only after a step that writes what it read.

The runtime skips an invariant after a step that writes none of the objects
it read when last judged (and changes neither the heap nor the threads):
it would read the same values and give the same answer
(:meth:`ctxcheck.runtime.Execution._seen_by`). What it reads is what it
learns from, so the skip must change nothing at all: here every explorer's
search is run with it and without it (``Execution.recheck_all``), and the
verdicts, the first schedule found for each property and the counts of
executions, blocked runs and steps must be the same, on generated programs
(with invariants over two cells) and on every variant of the perf_counter
models.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from ctxcheck.explorers import Outcome, get_explorer
from ctxcheck.loader import load_model
from ctxcheck.model import Model
from ctxcheck.options import Bounds
from ctxcheck.oracles.programs import Program, programs
from ctxcheck.runtime import Execution

#: (model, params): every variant of each is compared, at the proof's bounds
MODELS = [
    ("perf_counter.ctx_create", {"openers": 2, "switches": 0}),
    ("perf_counter.double_del", {}),
    ("perf_counter.install_task_ctx", {}),
    ("perf_counter.enable_task_ctx", {}),
    ("perf_counter.ctx_lifetime", {}),
    ("perf_counter.fork_inherit", {}),
    ("perf_counter.open_errors", {}),
    ("perf_counter.ctx_hooks", {}),
]


def _search(model: Model, variant: str | None, params: dict[str, int], explorer: str,
            recheck_all: bool) -> Outcome:  # fmt: skip
    saved = Execution.recheck_all
    Execution.recheck_all = recheck_all
    try:
        bounds = Bounds(max_steps=model.max_steps)
        return get_explorer(explorer)(model, model.config(variant, params), bounds).run()
    finally:
        Execution.recheck_all = saved


def _same(model: Model, variant: str | None, params: dict[str, int], explorer: str) -> str:
    full = _search(model, variant, params, explorer, recheck_all=True)
    skipping = _search(model, variant, params, explorer, recheck_all=False)
    what = f"{model.name} [{variant}] {params} under {explorer}"
    assert full.exhaustive and skipping.exhaustive, what
    assert {p: d.schedule for p, d in skipping.discoveries.items()} == {
        p: d.schedule for p, d in full.discoveries.items()
    }, what
    for count in ("executions", "blocked", "steps"):
        assert getattr(skipping.stats, count) == getattr(full.stats, count), (what, count)
    return ",".join(sorted(full.discoveries))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_interleavings=200))
def test_generated_programs_explore_the_same_with_and_without_the_skip(program: Program) -> None:
    model = program.model()
    for explorer in ("naive", "dpor", "odpor", "bfs"):
        _same(model, None, {}, explorer)


def _variants() -> Iterator[tuple[str, str, dict[str, int]]]:
    for name, params in MODELS:
        for variant in load_model(name).variants:
            yield name, variant.name, params


@pytest.mark.parametrize(("name", "variant", "params"), list(_variants()))
def test_perf_counter_models_explore_the_same_with_and_without_the_skip(
    name: str, variant: str, params: dict[str, int]
) -> None:
    _same(load_model(name), variant, params, "dpor")


def test_some_generated_program_violates_its_invariant() -> None:
    """The comparison above means something only if invariants do fail there."""
    found: list[str] = []

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(programs(max_interleavings=200))
    def collect(program: Program) -> None:
        found.append(_same(program.model(), None, {}, "dpor"))

    collect()
    assert any("invariant" in f for f in found)
