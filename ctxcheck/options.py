"""How a check runs: the bounds of its search and the explorer with its knobs.

One :class:`Options` value describes a check, whoever asks for it: the
Python API builds it from keyword arguments, the command line from its
flags, the pytest plugin from its settings profile and options. It holds

* :class:`Bounds`, what every explorer honours and every result reports
  (the contract's ``bounds`` object): steps per execution, executions,
  seconds, and the preemption bound of ``bounded``;
* the explorer's name and its *knobs*: settings that only some explorers
  have (``seed`` for ``random`` and ``pct``, ``depth`` for ``pct``). Each
  explorer declares its own (:attr:`ctxcheck.explorers.base.Explorer.knobs`);
  a knob the chosen explorer does not have is reported by
  :meth:`Options.ignored`, not silently honoured by anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ctxcheck.errors import UsageError


def _count(name: str, value: int | None) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UsageError(f"{name}={value!r}: give a whole number of at least 0 (or no limit)")


@dataclass(frozen=True)
class Bounds:
    """Bounds of a search. None means unbounded."""

    max_steps: int | None = None
    max_executions: int | None = None
    timeout: float | None = None
    max_preemptions: int | None = None

    def __post_init__(self) -> None:
        _count("max_steps", self.max_steps)
        _count("max_executions", self.max_executions)
        _count("max_preemptions", self.max_preemptions)
        t = self.timeout
        if t is not None and (
            isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t <= 0
        ):
            raise UsageError(f"timeout={t!r}: give a finite, positive number of seconds")

    def to_json(self) -> dict[str, Any]:
        """The contract's ``bounds`` object."""
        return {
            "max_steps": self.max_steps,
            "max_executions": self.max_executions,
            "timeout": self.timeout,
            "max_preemptions": self.max_preemptions,
        }


@dataclass(frozen=True)
class Options:
    """Everything that says how one check runs, but the model and its parameters."""

    explorer: str = "dpor"
    bounds: Bounds = field(default_factory=Bounds)
    #: explorer-specific settings by name (``seed``, ``depth``); see the module docstring
    knobs: Mapping[str, Any] = field(default_factory=dict)
    #: end the search at the first violation (a random tester, an assertion)
    stop_on_first: bool = False
    #: worker processes of a split dpor search: 1 none, 0 every core (--jobs)
    jobs: int = 1
    #: a Dask scheduler to split the search over: "local" starts one (--cluster)
    cluster: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.jobs, int) or isinstance(self.jobs, bool) or self.jobs < 0:
            raise UsageError(
                f"jobs={self.jobs!r}: give a whole number of processes (0: every core)"
            )

    @property
    def split(self) -> bool:
        """Whether the search is split over processes or machines."""
        return self.jobs != 1 or self.cluster is not None

    @classmethod
    def build(
        cls,
        explorer: str = "dpor",
        *,
        max_steps: int | None = None,
        max_executions: int | None = None,
        timeout: float | None = None,
        max_preemptions: int | None = None,
        stop_on_first: bool = False,
        jobs: int = 1,
        cluster: str | None = None,
        **knobs: Any,
    ) -> Options:
        """Options from the keyword arguments of :func:`ctxcheck.check` (None: not set)."""
        bounds = Bounds(max_steps, max_executions, timeout, max_preemptions)
        given = {k: v for k, v in knobs.items() if v is not None}
        return cls(explorer, bounds, given, stop_on_first, jobs, cluster)

    def ignored(self, accepted: tuple[str, ...]) -> list[str]:
        """The knobs given that an explorer taking ``accepted`` does not have."""
        return sorted(k for k in self.knobs if k not in accepted)
