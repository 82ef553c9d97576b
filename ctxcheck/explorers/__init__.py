"""Explorers: strategies that choose which schedules to run.

All share :class:`~ctxcheck.explorers.base.Explorer` and report the same
:class:`~ctxcheck.explorers.base.Outcome`. Look one up by its CLI name with
:func:`get_explorer`.
"""

from __future__ import annotations

from ctxcheck.errors import UsageError
from ctxcheck.explorers.base import Explorer, Outcome, ProgressHook, Stats
from ctxcheck.explorers.bfs import BfsExplorer
from ctxcheck.explorers.bounded import BoundedExplorer
from ctxcheck.explorers.dpor import DporExplorer
from ctxcheck.explorers.naive import NaiveExplorer
from ctxcheck.explorers.odpor import OdporExplorer
from ctxcheck.explorers.pct import PctExplorer
from ctxcheck.explorers.randomwalk import RandomExplorer
from ctxcheck.explorers.stateful import StatefulExplorer
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds, Options

EXPLORERS: dict[str, type[Explorer]] = {
    "naive": NaiveExplorer,
    "dpor": DporExplorer,
    "bfs": BfsExplorer,
    "bounded": BoundedExplorer,
    "random": RandomExplorer,
    "pct": PctExplorer,
    "odpor": OdporExplorer,
    "stateful": StatefulExplorer,
}


def get_explorer(name: str) -> type[Explorer]:
    """The explorer class for a CLI name, or a :class:`UsageError` listing them."""
    try:
        return EXPLORERS[name]
    except KeyError:
        raise UsageError(
            f"unknown explorer {name!r}; choose one of: {', '.join(EXPLORERS)}"
        ) from None


def create_explorer(
    model: Model,
    config: Config,
    options: Options,
    bounds: Bounds | None = None,
    progress: ProgressHook | None = None,
) -> Explorer:
    """The explorer ``options`` names, set up with its bounds and the knobs it has.

    Knobs the explorer does not have (a seed for ``dpor``) are left out;
    :meth:`Options.ignored` says which, for a command line to report. A
    preemption bound is refused by an explorer that cannot honour it (a
    :class:`UsageError`), since what it found would break the bound.
    """
    cls = get_explorer(options.explorer)
    bounds = bounds or options.bounds
    if bounds.max_preemptions is not None and not cls.preemption_bound:
        takers = ", ".join(n for n, c in EXPLORERS.items() if c.preemption_bound)
        raise UsageError(
            f"explorer {cls.name} does not honour max_preemptions={bounds.max_preemptions} "
            f"(--max-preemptions): what it finds may preempt more often. The explorers that "
            f"bound preemptions: {takers}; choose one of them, or leave the bound out"
        )
    knobs = {k: v for k, v in options.knobs.items() if k in cls.knobs}
    return cls(model, config, bounds, progress, options.stop_on_first, **knobs)


__all__ = [
    "EXPLORERS", "Explorer", "Outcome", "Stats", "create_explorer", "get_explorer",
]  # fmt: skip
