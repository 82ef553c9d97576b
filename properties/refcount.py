"""Refcount equals references: ``ctx->refcount`` counts exactly its holders (a63eaf34).

A context's references are: its task's (from creation, or fork, until the
``put_ctx`` at the end of ``perf_counter_exit_task``; before publication the
creator holds it), and one per counter whose ``ctx`` it is, taken by
``get_ctx`` in ``perf_counter_alloc`` and dropped by ``put_ctx`` in
``free_counter_rcu``. ``find_get_context`` callers take none at a63eaf34;
with the upstream fix c93f7669 they hold one until the counter takes it
over or the error path puts it (``opening``). A refcount
above the references is a leak waiting to happen (the context is never
freed); below is a use after free waiting to happen. Contexts embedded in a
task (the parent commit) have no refcount and are skipped.
"""

from __future__ import annotations

from typing import Any

from ctxcheck import Machine, Property
from ctxcheck.observe import judge_parts
from properties.state import PerfState, alive


def references(s: PerfState, ctx: object) -> int:
    """The holders of ``ctx`` that exist in memory right now."""
    task_refs = sum(1 for t in s.tasks if t.perf_counter_ctxp.value is ctx)
    if task_refs == 0 and (ctx in s.exit_holding or ctx in s.creating):
        task_refs = 1
    counter_refs = sum(1 for c in s.counters() if c.ctx_ref and alive(c) and c.ctx.value is ctx)
    opener_refs = sum(1 for held in s.opening if held is ctx)
    return task_refs + counter_refs + opener_refs


def refcount_equals_references(m: Machine, s: PerfState) -> str | None:
    """Compare every live heap context's refcount with its holders."""
    heap = (ctx for ctx in s.contexts() if getattr(ctx, "heap", False))
    return judge_parts(heap, lambda ctx: _refcount_matches(s, ctx))


def _refcount_matches(s: PerfState, ctx: Any) -> str | None:
    if not alive(ctx):
        return None
    refs = references(s, ctx)
    count = ctx.refcount.value
    if count != refs:
        return f"{ctx.name}.refcount is {count} but {refs} references exist"
    return None


REFCOUNT_EQUALS_REFERENCES = Property(
    "refcount_equals_references",
    "a context's refcount equals its references: its task's and one per counter on it",
    refcount_equals_references,
)
