"""perf_counter.ctx_create under --memory-model lkmm: what the smp_wmb() does.

The model marks its accesses as the C at a63eaf34 does: a plain load of
task->perf_counter_ctxp (K1282), smp_wmb() (K1294), cmpxchg() (K1295). The
questions the report answers are held here: with the plain load, a second
opener can read the new context's refcount uninitialised and the load races
with the cmpxchg, with or without the barrier; with the load marked
(READ_ONCE, a what-if), both hold: the barrier is redundant, because the
successful cmpxchg is fully ordered.
"""

from __future__ import annotations

import pytest

import ctxcheck
from ctxcheck.loader import load_model

MODEL = load_model("perf_counter.ctx_create")
PARAMS = dict(MODEL.lkmm_params)


def lkmm(variant: str) -> ctxcheck.Result:
    return ctxcheck.check(MODEL, variant=variant, memory_model="lkmm", **PARAMS)


@pytest.fixture(scope="module")
def post() -> ctxcheck.Result:
    return lkmm("post")


def test_the_plain_reader_can_see_the_context_uninitialised(post: ctxcheck.Result) -> None:
    v = post.assert_violates("memory_safety")
    assert "ctx#1.refcount before it is initialised" in v.message
    assert "not yet visible" in v.message
    last = v.events[-1]
    assert last.thread == "open1"
    assert "stale: reads uninitialised memory" in last.text


def test_the_plain_load_races_with_the_cmpxchg(post: ctxcheck.Result) -> None:
    post.assert_violates("data_race")


def test_sc_does_not_see_any_of_it() -> None:
    assert ctxcheck.check(MODEL, variant="post", **PARAMS).verdict == "holds"


@pytest.mark.parametrize("variant", ["post-read-once", "mutant-no-smp-wmb-read-once"])
def test_a_marked_reader_holds_with_and_without_the_barrier(variant: str) -> None:
    result = lkmm(variant)
    assert result.verdict == "holds", result.summary()
    assert result.exhaustive


def test_the_expectations_of_the_report_are_the_models() -> None:
    names = [e.variant for e in MODEL.lkmm_expectations]
    assert names == ["post", "mutant-no-smp-wmb", "post-read-once", "mutant-no-smp-wmb-read-once"]
    assert ("post", "mutant-no-smp-wmb") in MODEL.lkmm_pairs
