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
    :meth:`Options.ignored` says which, for a command line to report.
    """
    cls = get_explorer(options.explorer)
    knobs = {k: v for k, v in options.knobs.items() if k in cls.knobs}
    return cls(model, config, bounds or options.bounds, progress, options.stop_on_first, **knobs)


__all__ = [
    "EXPLORERS", "Explorer", "Outcome", "Stats", "create_explorer", "get_explorer",
]  # fmt: skip
