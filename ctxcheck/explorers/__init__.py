"""Explorers: strategies that choose which schedules to run.

All share :class:`~ctxcheck.explorers.base.Explorer` and report the same
:class:`~ctxcheck.explorers.base.Outcome`. Look one up by its CLI name with
:func:`get_explorer`.
"""

from __future__ import annotations

from ctxcheck.errors import UsageError
from ctxcheck.explorers.base import Budget, Explorer, Outcome, Stats
from ctxcheck.explorers.bfs import BfsExplorer
from ctxcheck.explorers.bounded import BoundedExplorer
from ctxcheck.explorers.dpor import DporExplorer
from ctxcheck.explorers.naive import NaiveExplorer
from ctxcheck.explorers.odpor import OdporExplorer
from ctxcheck.explorers.pct import PctExplorer
from ctxcheck.explorers.randomwalk import RandomExplorer

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


__all__ = ["EXPLORERS", "Budget", "Explorer", "Outcome", "Stats", "get_explorer"]
