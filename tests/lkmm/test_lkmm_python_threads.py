"""Thread programs written in Python, as the engine's models are, under the LKMM.

find_get_context()'s publication of a new context (docs/litmus/ctx-publish*)
written directly against ``ctxcheck.lkmm.ops``: the same verdicts as the
litmus tests, which is what ``--memory-model lkmm`` will build on.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from ctxcheck.lkmm.events import Addr, Value
from ctxcheck.lkmm.explore import Program, executions
from ctxcheck.lkmm.ops import AnyOp, Fence, Load, Rmw, Store

Thread = Generator[AnyOp, Value | None, Any]
CTX = Addr("ctx")


def creator(wmb: bool, order: str) -> Any:
    def find_get_context() -> Thread:
        yield Store("ctx", 1, "plain", label="ctx->task = task")
        if wmb:
            yield Fence("wmb", label="smp_wmb()")
        old = yield Rmw("ctxp", lambda v: CTX if v == 0 else None, order, label="cmpxchg()")
        return old

    return find_get_context


def reader(tag: str) -> Any:
    def use_ctx() -> Thread:
        found = yield Load("ctxp", tag, label="ctx = task->perf_counter_ctxp")  # op 0
        task = None
        if isinstance(found, Addr):  # the C's if (ctx): control and address from op 0
            task = yield Load(found.name, tag, addr=frozenset({0}), ctrl=frozenset({0}))
        return found, task

    return use_ctx


@pytest.mark.parametrize(
    ("wmb", "order", "tag", "stale", "race"),
    [
        (True, "mb", "plain", True, True),  # a63eaf34 as the C is
        (False, "mb", "plain", True, True),
        (True, "mb", "once", False, False),
        (False, "mb", "once", False, False),  # the smp_wmb() is redundant
        (False, "once", "once", True, True),  # cmpxchg_relaxed() would need it
        (True, "once", "once", False, False),
    ],
)
def test_publication(wmb: bool, order: str, tag: str, stale: bool, race: bool) -> None:
    prog = Program((creator(wmb, order), reader(tag)), {"ctx": 0, "ctxp": 0})
    runs = list(executions(prog))
    outcomes = {ex.results[1] for ex in runs}
    assert (CTX, 0) in outcomes if stale else (CTX, 0) not in outcomes
    assert (CTX, 1) in outcomes and (0, None) in outcomes
    assert any("data-race" in ex.judgement.flags for ex in runs) == race
