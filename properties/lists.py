"""List integrity beyond the primitives: ``nr_counters`` counts what is linked.

The primitives already catch a ``list_del`` of a deleted entry and a
``list_add`` of a linked one. This adds the context's own bookkeeping:
``ctx->nr_counters`` equals the number of counters on ``ctx->event_list``
(every counter, leader or sibling, is there once) and is never negative. A
double ``list_del_counter`` breaks it even where the second unlink of a
self-linked ``list_entry`` is harmless: the count goes to -1.
"""

from __future__ import annotations

from typing import Any

from ctxcheck import Machine, Property
from ctxcheck.observe import judge_parts
from properties.state import PerfState, alive, counters_on


def nr_counters_matches(m: Machine, s: PerfState) -> str | None:
    """Check every live context that no list_add/del_counter is updating.

    The two lists and the count are written in separate steps, under
    ``ctx->lock``, or with IRQs off, or under no lock at all where the
    context is private (exit, fork): so the count is judged between those
    calls (``ctx.listing``, the model's note of one in progress), not at
    lock-free points. A context being filled by fork (its task not yet
    running) is skipped: inherit_counter links counters on it without any
    lock, legitimately.
    """
    settled = (ctx for ctx in s.contexts() if not (ctx.listing or ctx in s.creating))
    return judge_parts(settled, lambda ctx: _count_matches(s, ctx))


def _count_matches(s: PerfState, ctx: Any) -> str | None:
    if not alive(ctx) or ctx.task.value in s.unborn:
        return None
    nr = ctx.nr_counters.value
    if nr < 0:
        return f"{ctx.name}.nr_counters is {nr}: a counter was unlinked twice"
    linked = len(counters_on(ctx))
    if nr != linked:
        return f"{ctx.name}.nr_counters is {nr} but {linked} counters are on its event_list"
    return None


NR_COUNTERS_MATCHES = Property(
    "nr_counters_matches",
    "ctx->nr_counters equals the counters linked on the context, and is never negative",
    nr_counters_matches,
)
