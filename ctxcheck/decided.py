"""Which step of a counterexample decided a final property: :func:`decided_step`.

A final property (and a deadlock) is judged when no thread can move, so the
step where it is *noticed* is the last one of the execution: often a
``spin_unlock`` far from the cause. The step that *decided* it is the
earliest one after which every continuation of the execution violates the
property: before it some schedule still escaped, after it none does. In a
seqcount reader that accepts an odd count, that is the reader's
``read_seqcount_retry`` load that found the count unchanged, not the
writer's unlock twenty steps later.

It is found by walking, for prefixes of the counterexample from the longest
down, every continuation (depth first, no reduction): a prefix all of whose
continuations end in the same violation forces it; the first shorter prefix
with an escaping continuation stops the walk, and the step after it is the
deciding one. The walk has a budget of steps: when it runs out, the
earliest prefix known to force the violation is reported, with a note that
earlier steps were not examined.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctxcheck.explorers.path import Alternatives, Path, depth_first
from ctxcheck.model import Config, Model
from ctxcheck.runtime import Execution, SearchState

Schedule = list[tuple[int, int]]
#: steps one counterexample's walk may take, all prefixes together
DEFAULT_BUDGET = 200_000


@dataclass(frozen=True)
class Decided:
    """The deciding step (1-based), or None, and what was proven about it."""

    step: int | None
    note: str


class _OutOfBudget(Exception):
    pass


class _Walk:
    """Every continuation of a prefix: does one of them escape the violation?"""

    def __init__(self, search: SearchState, prop: str, budget: int) -> None:
        self.search = search
        self.prop = prop
        self.budget = budget
        self.escaped = False

    def execution(self) -> Execution:
        return self.search.execution()

    def branch_point(self, ex: Execution, path: Path[Alternatives]) -> Alternatives | None:
        self._spend(1)
        if ex.finished:
            return None
        return Alternatives(ex.choices(ex.last_tid))

    def leaf(self, ex: Execution, path: Path[Alternatives]) -> bool:
        found = ex.violation
        if found is None or found.prop != self.prop:
            self.escaped = True
            return False
        return True

    def resume(self, path: Path[Alternatives]) -> bool:
        self._spend(len(path.nodes))  # the replay to the next alternative
        return True

    def _spend(self, steps: int) -> None:
        self.budget -= steps
        if self.budget < 0:
            raise _OutOfBudget

    def forces(self, prefix: Schedule) -> bool:
        """True when every continuation of ``prefix`` violates the property."""
        self.escaped = False
        path: Path[Alternatives] = Path(self.execution, [Alternatives([c]) for c in prefix])
        depth_first(path, self, base=len(prefix))
        return not self.escaped


def decided_step(
    model: Model,
    config: Config,
    max_steps: int | None,
    schedule: Schedule,
    prop: str,
    budget: int = DEFAULT_BUDGET,
) -> Decided:
    """The earliest step of ``schedule`` after which ``prop``'s violation is certain."""
    walk = _Walk(SearchState(model, config, max_steps), prop, budget)
    n = len(schedule)
    decided = n  # the whole schedule forces it: its end state violates it
    try:
        for j in range(n - 1, -1, -1):
            if not walk.forces(schedule[:j]):
                break
            decided = j
    except _OutOfBudget:
        if decided == 0:
            return Decided(None, f"{prop} is certain from the initial state")
        return Decided(
            decided,
            f"every continuation after step {decided} violates {prop}; earlier steps were "
            f"not examined (budget of {budget} steps)",
        )
    if decided == 0:
        return Decided(None, f"every schedule violates {prop}: no step decided it")
    return Decided(
        decided,
        f"every continuation after step {decided} violates {prop}; after step "
        f"{decided - 1} some did not",
    )
