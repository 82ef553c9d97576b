"""``naive``: every schedule and every choice, depth first. The reference oracle.

No reduction at all: at each step every enabled thread, with every outcome of
its step, is a branch. It is slow on purpose; its job is to be obviously
right, so that the clever explorers can be tested against it.

Runs are replayed from the initial state (generators cannot be copied). At
each step the thread that just moved is tried first, so the first
counterexample found tends to have few preemptions.
"""

from __future__ import annotations

from ctxcheck.errors import NondeterministicModel
from ctxcheck.explorers.base import Explorer
from ctxcheck.runtime import Execution

Choice = tuple[int, int]


class _Node:
    __slots__ = ("alts", "idx", "sig")

    def __init__(self, alts: list[Choice], sig: tuple[str, int] | None) -> None:
        self.alts = alts
        self.idx = 0
        #: the chosen thread's operation, checked again on every replay
        self.sig = sig


class NaiveExplorer(Explorer):
    """Exhaustive depth-first search over all interleavings."""

    name = "naive"

    def search(self) -> bool:
        stack: list[_Node] = []
        while True:
            ex = self.execution()
            last: int | None = None
            for depth, node in enumerate(stack):
                tid, branch = node.alts[node.idx]
                node.sig = check_replay(ex, tid, node.sig, depth)
                ex.step(tid, branch)
                last = tid
            while not ex.finished:
                alts = ex.choices(last)
                tid, branch = alts[0]
                stack.append(_Node(alts, ex.signature(tid)))
                ex.step(tid, branch)
                last = tid
            self.finish(ex)
            while stack and stack[-1].idx + 1 >= len(stack[-1].alts):
                stack.pop()
            if not stack:
                return True
            if self.out_of_budget():
                return False
            node = stack[-1]
            node.idx += 1
            node.sig = None


def check_replay(
    ex: Execution, tid: int, expected: tuple[str, int] | None, depth: int
) -> tuple[str, int]:
    """Check that replaying a prefix meets the same operation as before."""
    sig = ex.signature(tid) if tid in ex.enabled() else None
    if sig is None or (expected is not None and sig != expected):
        found = "cannot move" if sig is None else f"now yields {sig[0]}"
        raise NondeterministicModel(
            f"model {ex.model.name} did not replay the same way at step {depth + 1}: "
            f"thread {tid} {found} (before: {expected[0] if expected else '?'}). A model "
            f"must be a deterministic function of its schedule: no randomness, no "
            f"global Python state, no set iteration order.",
            list(ex.schedule),
        )
    return sig
