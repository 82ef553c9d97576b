"""A split search's counterexamples, minimised side by side (``--jobs N``).

After a search, each violated property's first schedule is minimised
(:mod:`ctxcheck.minimize`), one after the other, and on a model that
violates several properties that can take as long as the search (before the
branch-and-bound deepening, ctx_lifetime's three counterexamples took 10 s
after a 4 s search). The minimisations are independent, and each is
deterministic given its discovery, so running them in ``workers`` forked
processes gives the same violations as one process, sooner.

Like :class:`~ctxcheck.parallel.pool.LocalPool`, workers are forked and
inherit the model (models defined anywhere can be checked), they ignore
Ctrl-C (the parent stops them), and a worker's exception is raised here.
With a ``--timeout``, the time left is shared out by rounds of ``workers``
discoveries (:func:`ctxcheck.counterexample.deadlines`), as one process
shares it out one discovery at a time.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections.abc import Mapping

from ctxcheck.counterexample import build_violation, build_violations, deadlines, judged_at_end
from ctxcheck.explorers.base import Discovery
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.result import Violation

#: what a forked worker minimises (set before the fork, read in the child)
_WORK: tuple[Model, Config, Bounds, list[Discovery]] | None = None


def _quiet() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _minimise(task: tuple[int, float | None]) -> Violation:
    assert _WORK is not None
    model, config, bounds, found = _WORK
    index, deadline = task
    return build_violation(model, config, bounds.max_steps, found[index], deadline=deadline,
                           max_preemptions=bounds.max_preemptions)  # fmt: skip


def build_violations_side_by_side(
    model: Model,
    config: Config,
    bounds: Bounds,
    discoveries: Mapping[str, Discovery],
    workers: int,
    started: float | None = None,
) -> list[Violation]:
    """:func:`ctxcheck.counterexample.build_violations`, over ``workers`` processes."""
    found = [d for _, d in sorted(discoveries.items())]
    if workers <= 1 or len(found) <= 1:
        return build_violations(model, config, bounds, discoveries, started)
    global _WORK
    _WORK = (model, config, bounds, found)
    order = dearest_first(model, found)
    tasks = list(zip(order, deadlines(len(found), workers, bounds.timeout, started), strict=True))
    try:
        ctx = mp.get_context("fork")
        with ctx.Pool(min(workers, len(found)), initializer=_quiet) as pool:
            done = dict(zip(order, pool.map(_minimise, tasks, chunksize=1), strict=True))
    finally:
        _WORK = None
    return [done[i] for i in range(len(found))]


def dearest_first(model: Model, found: list[Discovery]) -> list[int]:
    """The indices of ``found`` in the order to hand them out: final properties'
    first (a deciding-step walk follows their minimisation), then longer schedules."""

    def cost(i: int) -> tuple[bool, int]:
        return judged_at_end(model, found[i].found.prop), len(found[i].schedule)

    return sorted(range(len(found)), key=cost, reverse=True)
