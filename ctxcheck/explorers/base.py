"""What every explorer shares: statistics, discoveries, budgets, the run loop.

An explorer chooses schedules; the runtime executes them. All explorers
report through the same :class:`Outcome`: the statistics (executions,
sleep-set-blocked executions, distinct states where the explorer stores
them, steps, seconds), whether the search was exhaustive within its bounds
(and if not, why it stopped), and for each violated property the schedule
of one counterexample. Turning a schedule into a readable trace is done once,
later, by :mod:`ctxcheck.counterexample`, whatever explorer found it.

Each explorer owns the state of its search (:class:`~ctxcheck.runtime.SearchState`:
object ids and what invariants have read) and drives its executions through
:mod:`ctxcheck.explorers.path`.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.runtime import Execution, Found, SearchState
from ctxcheck.watchdog import GRACE, Watchdog, overrun_text

Schedule = list[tuple[int, int]]


@dataclass
class Stats:
    """The statistics every explorer reports, under the same names."""

    executions: int = 0
    blocked: int = 0
    states: int | None = None
    steps: int = 0
    seconds: float = 0.0
    #: estimated executions still to run, while a search is under way (None: no estimate)
    estimate_remaining: int | None = None
    #: a split search (--jobs, --cluster): subtrees handed out, jobs run again
    #: because a worker died, executions run twice, and times a running job
    #: handed part of its subtree back (None: not split)
    jobs: int | None = None
    reruns: int | None = None
    redundant: int | None = None
    handoffs: int | None = None
    #: the reductions a search used beyond its own (``symmetry of openers (3 threads)``);
    #: None: none to state
    reduction: str | None = None

    def to_json(self) -> dict[str, object]:
        """The contract's ``stats`` object (with ``estimate_remaining`` added, and
        and ``reduction``, and ``jobs``, ``reruns``, ``redundant``, ``handoffs``
        for a split search)."""
        out: dict[str, object] = {
            "executions": self.executions,
            "blocked": self.blocked,
            "states": self.states,
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "estimate_remaining": self.estimate_remaining,
            "reduction": self.reduction,
        }
        if self.jobs is not None:
            out.update(jobs=self.jobs, reruns=self.reruns, redundant=self.redundant,
                       handoffs=self.handoffs)  # fmt: skip
        return out


@dataclass
class Discovery:
    """One counterexample: the schedule and what it violated."""

    schedule: Schedule
    found: Found


@dataclass
class Outcome:
    """What an explorer hands back."""

    stats: Stats
    exhaustive: bool
    stopped: str | None = None
    discoveries: dict[str, Discovery] = field(default_factory=dict)


#: called now and then with the running statistics (for progress bars)
ProgressHook = Callable[[Stats], None]


class Explorer(ABC):
    """Base class: budgets, counting and recording; subclasses pick schedules.

    A subclass implements :meth:`search`, calling :meth:`execution` for a
    fresh run, :meth:`finish` when a run ends and :meth:`out_of_budget` to
    know when to stop. ``stop_on_first`` ends the search at the first
    violation (what a random tester or a pytest assertion wants). Settings
    only some explorers have are *knobs*: keyword arguments of the
    constructor named in :attr:`knobs`, which become attributes of the
    explorer (declare each with its default as a class attribute).
    """

    name = "explorer"
    #: True when a complete search proves the properties within the bounds
    exhaustive_capable = True
    #: the explorer-specific settings it takes (see :class:`ctxcheck.options.Options`)
    knobs: ClassVar[tuple[str, ...]] = ()
    #: True when it honours ``Bounds.max_preemptions`` (others refuse the bound)
    preemption_bound: ClassVar[bool] = False

    def __init__(
        self,
        model: Model,
        config: Config,
        bounds: Bounds,
        progress: ProgressHook | None = None,
        stop_on_first: bool = False,
        **knobs: Any,
    ) -> None:
        unknown = sorted(set(knobs) - set(self.knobs))
        if unknown:
            raise TypeError(f"explorer {self.name} has no setting {unknown[0]!r}")
        for knob, value in knobs.items():
            setattr(self, knob, value)
        self.model = model
        self.config = config
        self.bounds = bounds
        self.progress = progress
        self.stop_on_first = stop_on_first
        self.stats = Stats()
        self.discoveries: dict[str, Discovery] = {}
        #: what this search's executions share: object ids, what invariants read
        self.search_state = SearchState(model, config, bounds.max_steps)
        self._start = 0.0
        self._deadline: float | None = None
        self.stopped: str | None = None
        self._next_progress = 0.0

    # -- the interface ---------------------------------------------------
    def run(self) -> Outcome:
        """Search, then report; a Ctrl-C or the timeout ends the search with what it has.

        The timeout ends it even inside a step that never returns (a model
        loop that does not yield): see :mod:`ctxcheck.watchdog`.
        """
        self._start = time.monotonic()
        if self.bounds.timeout is not None:
            self._deadline = self._start + self.bounds.timeout
        complete = False
        with Watchdog(None if self._deadline is None else self._deadline + GRACE) as dog:
            try:
                complete = self.search()
            except KeyboardInterrupt:
                self.stopped = "interrupted"
        if dog.fired is not None:  # a step never came back to out_of_budget()
            complete = False
            self.stopped = overrun_text(self.bounds.timeout, dog.fired)
        self.stats.seconds = time.monotonic() - self._start
        exhaustive = complete and self.stopped is None and self.exhaustive_capable
        if exhaustive:
            self.stats.estimate_remaining = 0
        elif self.stopped is not None:
            self._estimate()
        if self.stop_on_first and self.discoveries:
            exhaustive = False
        return Outcome(self.stats, exhaustive, self.stopped, self.discoveries)

    @abstractmethod
    def search(self) -> bool:
        """Explore; return True when the search space was covered."""

    def done_fraction(self) -> float | None:
        """How much of the search is done, as a fraction (None: this explorer cannot say).

        Depth-first explorers answer with :func:`tree_fraction` over their
        current path (Knuth's estimate of a tree from the path being
        explored: every node is taken to have as many children as the
        current path's node at the same depth).
        """
        return None

    def _estimate(self) -> None:
        fraction = self.done_fraction()
        runs = self.stats.executions + self.stats.blocked
        if fraction is None or fraction <= 0.0 or runs == 0:
            self.stats.estimate_remaining = None
            return
        self.stats.estimate_remaining = max(0, round(runs / fraction) - runs)

    # -- helpers for subclasses --------------------------------------------
    def execution(self) -> Execution:
        """A fresh run of the model from its initial state, in this search.

        All runs of one search share the object ids and the set of objects
        invariants have read (:class:`~ctxcheck.runtime.SearchState`), so a
        write becomes visible in every run as soon as some run has seen an
        invariant read its object.
        """
        return self.search_state.execution()

    def finish(self, ex: Execution, blocked: bool = False) -> None:
        """Count a finished run and keep its violation, if any."""
        if blocked:
            self.stats.blocked += 1
        else:
            self.stats.executions += 1
        self.stats.steps += ex.steps
        found = ex.violation
        if found is not None:
            known = self.discoveries.get(found.prop)
            if known is None or len(ex.schedule) < len(known.schedule):
                self.discoveries[found.prop] = Discovery(list(ex.schedule), found)
        if self.progress is not None:
            now = time.monotonic()
            if now >= self._next_progress:
                self._next_progress = now + 0.1
                self.stats.seconds = now - self._start
                self._estimate()
                self.progress(self.stats)

    def out_of_budget(self) -> bool:
        """True (and :attr:`stopped` set) when a budget has run out."""
        if self.stop_on_first and self.discoveries:
            self.stopped = "first violation"
            return True
        limit = self.bounds.max_executions
        if limit is not None and self.stats.executions + self.stats.blocked >= limit:
            self.stopped = f"max_executions={limit}"
            return True
        if self._deadline is not None and time.monotonic() >= self._deadline:
            self.stopped = f"timeout={self.bounds.timeout}s"
            return True
        return False


def tree_fraction(points: Sequence[tuple[int, int]]) -> float:
    """The share of a tree done, from the path being explored (Knuth's estimate).

    ``points`` gives, per depth of the current path, ``(done, children)``:
    how many children of that node are finished and how many it has. The
    subtrees left of the path are done; each node is taken to have the
    children of the path's node at its depth, so the share done is the sum,
    over depths, of ``done / children`` of what the ancestors leave.
    """
    share = 0.0
    weight = 1.0
    for done, children in points:
        if children <= 0:
            break
        share += weight * done / children
        weight /= children
    return share
