"""From a schedule to a counterexample a person can read and re-run.

Every explorer hands back bare schedules. This module first reduces one to a
minimal schedule (:mod:`ctxcheck.minimize`), then replays it with recording
on, so that the events (thread, CPU, kernel function, source line, operation
and value) and the preemption count come from one place, whichever explorer
found the schedule.
"""

from __future__ import annotations

from ctxcheck.decided import decided_step
from ctxcheck.explorers.base import Discovery
from ctxcheck.minimize import DEFAULT_BUDGET, minimize
from ctxcheck.model import Config, Model
from ctxcheck.primitives.base import describe
from ctxcheck.result import Violation
from ctxcheck.runtime import Execution


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
) -> Violation:
    """Minimize a discovery, replay it recorded, and describe it, saying how minimal it is."""
    small = minimize(model, config, max_steps, found.schedule, found.found.prop, minimize_budget)
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


def judged_at_end(model: Model, prop: str) -> bool:
    """Whether ``prop`` is judged once no thread can move (a final property, deadlock)."""
    return prop == "deadlock" or any(p.final and p.name == prop for p in model.properties)
