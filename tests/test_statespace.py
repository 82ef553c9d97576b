"""The state-graph counter: its path count is the number of executions naive runs.

:func:`ctxcheck.oracles.statespace.count_paths` is how the benchmarks say how far out
of reach naive is on the large perf_counter models; it is only worth that if
it counts exactly what naive runs where naive finishes.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from test_explorers import SPIN

from ctxcheck.explorers import Outcome, get_explorer
from ctxcheck.loader import load_model
from ctxcheck.model import Model
from ctxcheck.options import Bounds
from ctxcheck.oracles.programs import Program, programs
from ctxcheck.oracles.statespace import count_paths


def naive(model: Model, params: dict[str, int], variant: str | None = None) -> Outcome:
    outcome = get_explorer("naive")(
        model, model.config(variant, params), Bounds(max_steps=model.max_steps)
    ).run()
    assert outcome.exhaustive
    return outcome


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_paths_are_naives_executions_on_generated_programs(program: Program) -> None:
    model = program.model()
    space = count_paths(model, model.config(None, {}))
    assert space.complete
    reference = naive(model, {})
    assert space.paths == reference.stats.executions
    assert space.violated == set(reference.discoveries)


def test_paths_are_naives_executions_on_a_perf_counter_model() -> None:
    model = load_model("perf_counter.install_task_ctx")
    space = count_paths(model, model.config("mutant-no-install-task-ctx", {"switches": 1}))
    assert space.complete and space.states > 1 and space.edges >= space.states - 1
    reference = naive(model, {"switches": 1}, "mutant-no-install-task-ctx")
    assert space.paths == reference.stats.executions
    assert space.violated == set(reference.discoveries)
    assert "prompt_enable" in space.violated


def test_a_cut_walk_says_so() -> None:
    model = load_model("perf_counter.double_del")
    space = count_paths(model, model.config("post", {}), timeout=0.0)
    assert not space.complete and space.paths is None


def test_a_retry_loop_makes_naives_paths_unbounded() -> None:
    # a try-lock loop that spins while the other thread holds the lock: the
    # state graph has a cycle, naive only stops at --max-steps
    space = count_paths(SPIN, SPIN.config(None, {"threads": 2}))
    assert space.complete and space.paths is None
    assert space.violated == set() and 0 < space.states < 100
