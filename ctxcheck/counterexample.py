"""From a schedule to a counterexample a person can read and re-run.

Every explorer hands back bare schedules. This module first reduces one to a
minimal schedule (:mod:`ctxcheck.minimize`), then replays it with recording
on, so that the events (thread, CPU, kernel function, source line, operation
and value) and the preemption count come from one place, whichever explorer
found the schedule.

A check's ``--timeout`` covers this work too (:func:`build_violations`): what
is left of it when the search ends is shared among the counterexamples, and
one whose minimisation it cuts says so ("minimal: not proven").
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ctxcheck.decided import decided_step
from ctxcheck.explorers.base import Discovery
from ctxcheck.minimize import DEFAULT_BUDGET, minimize
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.primitives.base import describe
from ctxcheck.result import Violation
from ctxcheck.runtime import Execution

#: the minimiser's budget under --memory-model lkmm (executions), where a step
#: costs a consistency check of the graph: past it, "minimal: not proven"
LKMM_MINIMIZE_BUDGET = 2_000


def record(
    model: Model, config: Config, max_steps: int | None, schedule: list[tuple[int, int]]
) -> Execution:
    """Replay ``schedule`` with every step recorded."""
    ex = Execution(model, config, max_steps, record=True)
    ex.replay(schedule)
    return ex


def build_violation(
    model: Model,
    config: Config,
    max_steps: int | None,
    found: Discovery,
    minimize_budget: int = DEFAULT_BUDGET,
    deadline: float | None = None,
    max_preemptions: int | None = None,
) -> Violation:
    """Minimize a discovery, replay it recorded, and describe it, saying how minimal it is.

    ``deadline`` (``time.monotonic()``) and ``max_preemptions`` bound the
    minimisation (see :func:`ctxcheck.minimize.minimize`).
    """
    if config.memory_model != "sc":  # each step judges a graph: a smaller proof budget
        minimize_budget = min(minimize_budget, LKMM_MINIMIZE_BUDGET)
    small = minimize(model, config, max_steps, found.schedule, found.found.prop, minimize_budget,
                     deadline, max_preemptions)  # fmt: skip
    ex = record(model, config, max_steps, small.schedule)
    outcome = ex.violation or small.found
    decided, note = None, None
    if judged_at_end(model, outcome.prop):
        verdict = decided_step(model, config, max_steps, list(ex.schedule), outcome.prop)
        decided, note = verdict.step, verdict.note
    return Violation(
        property=outcome.prop,
        message=outcome.message,
        steps=len(ex.schedule),
        preemptions=sum(1 for e in ex.events if e.preemption),
        schedule=list(ex.schedule),
        events=ex.events,
        minimal=small.minimal,
        minimal_note=small.note,
        results={name: describe(value) for name, value in ex.machine.results().items()},
        decided_step=decided,
        decided_note=note,
    )


def build_violations(
    model: Model,
    config: Config,
    bounds: Bounds,
    discoveries: Mapping[str, Discovery],
    started: float | None = None,
) -> list[Violation]:
    """Every discovery as a violation, in property order, within the check's bounds.

    With a timeout, the check began at ``started`` (``time.monotonic()``):
    the time left of ``bounds.timeout`` is shared out evenly among the
    discoveries still to minimize, so the whole check keeps to its budget.
    """
    found = [d for _, d in sorted(discoveries.items())]
    out = []
    for i, d in enumerate(found):
        share = deadlines(len(found) - i, 1, bounds.timeout, started)[0]
        out.append(build_violation(model, config, bounds.max_steps, d, deadline=share,
                                   max_preemptions=bounds.max_preemptions))  # fmt: skip
    return out


def deadlines(
    count: int, workers: int, timeout: float | None, started: float | None
) -> list[float | None]:
    """When each of ``count`` minimisations must stop, ``workers`` of them at a time.

    The time left of the check's ``timeout`` (it began at ``started``) is
    shared out evenly among the rounds still to run; None: no deadline.
    """
    if timeout is None or started is None:
        return [None] * count
    now = time.monotonic()
    left = max(0.0, started + timeout - now)
    rounds = -(-count // workers)
    return [now + left * (i // workers + 1) / rounds for i in range(count)]


def judged_at_end(model: Model, prop: str) -> bool:
    """Whether ``prop`` is judged once no thread can move (a final property, deadlock)."""
    return prop == "deadlock" or any(p.final and p.name == prop for p in model.properties)
