"""The execution tree of a search, and the one path through it being run now.

Generators cannot be copied, so a state of a model is only ever *reached*:
by running the model from its initial state through the branch points (which
thread moved, with which outcome) that lead to it. This module owns that:

* :class:`Branch` is one branch point of a path: the choice taken there and
  what the step was (its *signature*), so that every later replay can check
  it meets the same step again (a model that does not is nondeterministic,
  reported with the step);
* :class:`Path` is the sequence of branch points from the initial state that
  an explorer is working on: it replays them into a fresh execution of the
  search, and takes new ones;
* :func:`depth_first` walks the tree below a path depth first, asking a
  :class:`Chooser` which choices to explore at each new branch point. The
  explorers that enumerate (``naive``, ``bounded``), the samplers (``random``,
  ``pct``: one choice per branch point) and the minimiser are choosers on it;
  ``dpor`` and ``odpor`` keep their own per-point bookkeeping on a
  :class:`Path`; ``bfs`` and the state walk replay paths of their frontier.

Preemptions are counted in one place, by the execution
(:meth:`ctxcheck.runtime.Execution.is_preemption`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, Protocol, TypeVar

from ctxcheck.errors import NondeterministicModel
from ctxcheck.runtime import Execution

Choice = tuple[int, int]
Schedule = list[Choice]
Signature = tuple[str, int]


class Branch:
    """One branch point: the (thread, outcome) chosen and the step met there."""

    __slots__ = ("branch", "sig", "tid")

    def __init__(self, tid: int, branch: int = 0) -> None:
        self.tid = tid
        self.branch = branch
        #: what the step was when first taken; None until then
        self.sig: Signature | None = None

    def choose(self, tid: int, branch: int) -> None:
        """Take another choice here; its step is met afresh."""
        self.tid = tid
        self.branch = branch
        self.sig = None


B = TypeVar("B", bound=Branch)


def check_step(ex: Execution, tid: int, expected: Signature | None, depth: int) -> Signature:
    """Check that a replay meets, at branch point ``depth``, the step it met before."""
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


class Path(Generic[B]):
    """The branch points from the initial state to the state being explored.

    ``start`` makes a fresh execution of the search (the explorer's
    :meth:`~ctxcheck.explorers.base.Explorer.execution`). ``nodes`` is the
    path itself; explorers append and pop nodes of their own
    :class:`Branch` subclass, carrying what they need per point.
    """

    def __init__(self, start: Callable[[], Execution], nodes: Iterable[B] = ()) -> None:
        self.start = start
        self.nodes: list[B] = list(nodes)

    def replay(self, depth: int | None = None, known: int | None = None) -> Execution:
        """A fresh execution driven through the first ``depth`` branch points (all of them).

        Each step is checked against the one met there before; a branch point
        met for the first time records its step. The states after the first
        ``known`` steps (all replayed ones by default) were checked when they
        were first explored: their invariants are not judged again. A model
        is a deterministic function of its schedule (the signatures check it),
        so they hold there as they did.
        """
        ex = self.start()
        nodes = self.nodes if depth is None else self.nodes[:depth]
        known = len(nodes) if known is None else known
        ex.replaying = known > 0
        for i, node in enumerate(nodes):
            if i == known:
                ex.replaying = False
            node.sig = check_step(ex, node.tid, node.sig, i)
            ex.step(node.tid, node.branch)
        ex.replaying = False
        return ex

    def step(self, ex: Execution, node: B) -> None:
        """Take ``node``'s choice in ``ex`` (at the end of the path), recording its step."""
        node.sig = ex.signature(node.tid)
        ex.step(node.tid, node.branch)

    def schedule(self) -> Schedule:
        """The (thread, outcome) choices of the path."""
        return [(n.tid, n.branch) for n in self.nodes]


def follow(
    start: Callable[[], Execution], schedule: Sequence[Choice], known: bool = False
) -> Execution:
    """A fresh execution driven through ``schedule``, checking every step is possible.

    ``known``: the schedule reaches states already explored (a frontier's),
    so its invariants need no judging again; otherwise every state is judged.
    """
    path = Path(start, [Branch(t, b) for t, b in schedule])
    return path.replay(known=len(schedule) if known else 0)


def attempt(
    start: Callable[[], Execution],
    schedule: Sequence[Choice],
    before: Callable[[Execution, int], object] | None = None,
) -> Execution | None:
    """Run ``schedule`` if it is possible: None when a step cannot be taken.

    For candidate schedules (the minimiser's) that need not be paths of the
    tree: a thread that cannot move, an outcome that does not exist, or a
    violation before the end make it no path. ``before(ex, tid)`` is called
    before each step is taken.
    """
    ex = start()
    for tid, branch in schedule:
        if ex.violation is not None or tid not in ex.enabled() or branch >= ex.branches(tid):
            return None
        if before is not None:
            before(ex, tid)
        ex.step(tid, branch)
    return ex


class Alternatives(Branch):
    """A branch point of a depth-first walk: the choices to explore there, in order."""

    __slots__ = ("alts", "idx")

    def __init__(self, alts: list[Choice]) -> None:
        super().__init__(*alts[0])
        self.alts = alts
        self.idx = 0

    def advance(self) -> bool:
        """Move to the next choice; False when every one has been explored."""
        if self.idx + 1 >= len(self.alts):
            return False
        self.idx += 1
        self.choose(*self.alts[self.idx])
        return True


A = TypeVar("A", bound=Alternatives)


class Chooser(Protocol[A]):
    """What a depth-first walk asks at each new branch point."""

    def branch_point(self, ex: Execution, path: Path[A]) -> A | None:
        """The branch point to add at the end of ``path``, in state ``ex``.

        Its alternatives are the choices to explore there, first taken first;
        None when nothing is to be explored below this state (a leaf).
        """

    def leaf(self, ex: Execution, path: Path[A]) -> bool:
        """An execution ended (or was cut); False stops the walk at once."""

    def resume(self, path: Path[A]) -> bool:
        """The walk is about to replay ``path`` for its next choice; False stops it."""


def depth_first(
    path: Path[A], chooser: Chooser[A], base: int | None = None, known: int | None = None
) -> bool:
    """Walk the tree below the first ``base`` branch points of ``path`` (all of them).

    At each state the chooser adds a branch point and the walk takes its
    first choice, in the same execution, until the chooser adds none; then
    it backtracks to the deepest point with a choice left, replays the path
    to it and takes that choice. Returns True when every choice below was
    explored, False when the chooser stopped the walk (:meth:`Chooser.leaf`
    or :meth:`Chooser.resume` said no). ``known``: how many of the first
    steps of ``path`` reach states already judged (all by default; see
    :meth:`Path.replay`).
    """
    floor = len(path.nodes) if base is None else base
    ex = path.replay(known=known)
    while True:
        node = chooser.branch_point(ex, path)
        while node is not None:
            path.nodes.append(node)
            path.step(ex, node)
            node = chooser.branch_point(ex, path)
        if not chooser.leaf(ex, path):
            return False
        while len(path.nodes) > floor and not path.nodes[-1].advance():
            path.nodes.pop()
        if len(path.nodes) <= floor:
            return True
        if not chooser.resume(path):
            return False
        ex = path.replay(known=len(path.nodes) - 1)
