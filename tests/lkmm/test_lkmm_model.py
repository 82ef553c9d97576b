"""The LKMM check held to sequential consistency and to an unpruned search.

- Every outcome some SC interleaving gives is allowed by the LKMM (the LKMM
  is weaker than SC, never stronger).
- With smp_mb() between every two accesses of each thread the LKMM allows
  exactly the SC outcomes (full fences restore SC for marked accesses).
- The per-location coherence/atomicity filter of the enumeration changes
  nothing: the same executions come out when every candidate goes to the
  full check; nor do the justified value domains, against every value any
  run writes.
"""

from __future__ import annotations

import functools
import random

import pytest
from lkmm_programs import as_program, outcome, random_program, sc_outcomes, with_full_fences

from ctxcheck.lkmm.explore import Stats, executions

SEEDS = range(40)
#: the unpruned search grows fast with threads: two-thread programs for it
PRUNE_SEEDS = range(30)


def _programs(seed: int) -> list[list[tuple[str, str, int]]]:
    rng = random.Random(seed)
    return random_program(rng, threads=rng.randint(2, 3), length=3)


@functools.cache
def _lkmm(seed: int) -> frozenset:  # type: ignore[type-arg]
    return frozenset(outcome(ex) for ex in executions(as_program(_programs(seed))))


@pytest.mark.parametrize("seed", SEEDS)
def test_sc_outcomes_are_allowed(seed: int) -> None:
    assert sc_outcomes(_programs(seed)) <= _lkmm(seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_full_fences_give_exactly_sc(seed: int) -> None:
    prog = with_full_fences(_programs(seed))
    lkmm = {outcome(ex) for ex in executions(as_program(prog))}
    assert lkmm == sc_outcomes(prog)


@pytest.mark.parametrize("seed", PRUNE_SEEDS)
def test_pruning_keeps_every_execution(seed: int) -> None:
    program = as_program(random_program(random.Random(1000 + seed), threads=2, length=3))

    def key(ex):  # type: ignore[no-untyped-def]
        return (outcome(ex), tuple(sorted(ex.graph.rf.items())), tuple(sorted(ex.graph.co.items())))

    pruned_stats, full_stats = Stats(), Stats()
    pruned = {key(ex) for ex in executions(program, pruned_stats)}
    full = {key(ex) for ex in executions(program, full_stats, prune=False)}
    assert pruned == full
    assert pruned_stats.candidates <= full_stats.candidates


@pytest.mark.parametrize("seed", PRUNE_SEEDS)
def test_justified_values_lose_no_execution(seed: int) -> None:
    """Values from justified combinations give the same executions as every
    value any run writes (these programs write constants, so both are finite)."""
    program = as_program(_programs(seed))
    justified = {outcome(ex) for ex in executions(program)}
    assert justified == {outcome(ex) for ex in executions(program, justify=False)}


def test_some_generated_program_is_weaker_than_sc() -> None:
    """The SC comparison is not vacuous: some programs have non-SC outcomes."""
    weaker = 0
    for seed in SEEDS:
        weaker += _lkmm(seed) != sc_outcomes(_programs(seed))
    assert weaker > len(SEEDS) // 3
