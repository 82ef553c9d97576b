"""Runs of identical steps (a spin loop's loads) folded into one step and a count.

A spin-wait written as a plain loop, or a retry loop that keeps failing,
repeats the same step dozens of times; a trace that prints each copy buries
the race. Every picture of a counterexample folds them the same way, so the
text trace and the lane diagram give the same counts: this module is that
one rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctxcheck.runtime import Event

#: a run of at least this many identical steps is shown as its first and a count
COLLAPSE_MIN = 3


def same_step(a: Event, b: Event) -> bool:
    """Two steps that read the same in a trace: one thread, one place, one operation."""
    return (
        a.tid == b.tid and a.text == b.text and a.function == b.function and a.line == b.line
        and not b.preemption
    )  # fmt: skip


def fold_runs(events: Sequence[Event], keep: int | None = None) -> list[tuple[Event, int]]:
    """Steps grouped into runs of identical ones: (first step, how many).

    A run shorter than :data:`COLLAPSE_MIN` stays as single steps (count 1).
    The step ``keep`` (the one that decided a final property) is never
    folded into a run, so it can be marked.
    """
    runs: list[tuple[int, int]] = []  # (index of the first step, count)
    for i, e in enumerate(events):
        if runs:
            start, n = runs[-1]
            first = events[start]
            if same_step(first, e) and keep not in (e.step, first.step):
                runs[-1] = (start, n + 1)
                continue
        runs.append((i, 1))
    out: list[tuple[Event, int]] = []
    for start, n in runs:
        if n < COLLAPSE_MIN:
            out.extend((e, 1) for e in events[start : start + n])
        else:
            out.append((events[start], n))
    return out


def repeat_label(first: Event, n: int) -> str:
    """What a folded run says: ``\\u00d7 37 (steps 4-40, the same step)``."""
    return f"\u00d7 {n} (steps {first.step}-{first.step + n - 1}, the same step)"
