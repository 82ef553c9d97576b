"""spin.ctx_create: the SPIN-granularity scenario gives the .pml's verdicts and known counts.

``ctxcheck bench --spin`` sets this model beside ``../shared/spin/ctx_create.pml``;
the comparison means something only if the model is right and its size is
the one the reduction should give. So: each variant's verdict at small N,
the same verdict from the unreduced search, and the executions of dpor and
odpor equal to the trace counts derived by hand (``post``: a winner and the
set of the other openers that loaded NULL before its cmpxchg, N * 2**(N-1);
``pre``: the N! orders of the ``ctx->task`` stores) and, at N = 2 for every
variant, to the Mazurkiewicz traces among the naive explorer's executions.
"""

from __future__ import annotations

from math import factorial
from pathlib import Path

import pytest
from mazurkiewicz import naive_and_traces

from ctxcheck.explorers import get_explorer
from ctxcheck.explorers.base import Outcome
from ctxcheck.options import Bounds
from models.spin.ctx_create import MODEL, SPIN_DEFINES

MUTANTS = ("mutant-no-cmpxchg", "mutant-blind-store")
PML = Path(__file__).resolve().parents[1] / "ctxcheck" / "bench" / "promela" / "ctx_create.pml"


def search(variant: str, openers: int, explorer: str = "odpor") -> Outcome:
    config = MODEL.config(variant, {"openers": openers})
    return get_explorer(explorer)(MODEL, config, Bounds(max_steps=MODEL.max_steps)).run()


@pytest.mark.parametrize("explorer", ["dpor", "odpor"])
@pytest.mark.parametrize("openers", [1, 2, 3])
def test_pre_and_post_hold_exhaustively(explorer: str, openers: int) -> None:
    for variant in ("pre", "post"):
        out = search(variant, openers, explorer)
        assert out.exhaustive and not out.discoveries, (variant, out.discoveries)


@pytest.mark.parametrize("explorer", ["dpor", "odpor"])
@pytest.mark.parametrize("variant", MUTANTS)
def test_each_mutant_gives_t_two_contexts_from_two_openers(explorer: str, variant: str) -> None:
    assert not search(variant, 1, explorer).discoveries  # one opener cannot race
    for openers in (2, 3):
        found = search(variant, openers, explorer).discoveries
        assert set(found) == {"one_ctx_per_task"}, (openers, found)
        assert "not on T's context" in found["one_ctx_per_task"].found.message


@pytest.mark.parametrize("explorer", ["dpor", "odpor"])
@pytest.mark.parametrize("openers", [1, 2, 3, 4])
def test_post_explores_a_winner_and_who_loaded_null_before_it(explorer: str, openers: int) -> None:
    out = search("post", openers, explorer)
    assert out.stats.executions == openers * 2 ** (openers - 1)
    assert out.stats.blocked == 0


@pytest.mark.parametrize("openers", [2, 3])
def test_pre_explores_the_orders_of_the_ctx_task_stores(openers: int) -> None:
    for explorer in ("dpor", "odpor"):
        assert search("pre", openers, explorer).stats.executions == factorial(openers)


@pytest.mark.parametrize("variant", ["pre", "post", *MUTANTS])
def test_the_unreduced_search_agrees_at_two_openers(variant: str) -> None:
    naive, count = naive_and_traces(MODEL, MODEL.config(variant, {"openers": 2}))
    for explorer in ("dpor", "odpor"):
        out = search(variant, 2, explorer)
        assert set(out.discoveries) == set(naive.discoveries), explorer
        assert out.stats.executions == count.traces, explorer
    assert naive.stats.executions > count.traces  # the reduction did something


def test_every_variant_names_its_pml_define() -> None:
    assert set(SPIN_DEFINES) == {v.name for v in MODEL.variants}
    text = PML.read_text()
    for define in SPIN_DEFINES.values():
        assert f"defined({define})" in text or f"ifdef {define}" in text, define
