"""The benchmark model family: N threads, N! Mazurkiewicz traces.

Each of N threads does two private accesses (a load and a store of its own
cell) and one shared ``atomic_add_return`` (its value is seen, so no two
commute), so the only order that matters is the order of the increments:
exactly N! traces. An explorer's executions on it
say how close it comes to one run per trace; its steps per second are the
engine's raw speed.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ctxcheck.kernel import Kernel
from ctxcheck.machine import Machine
from ctxcheck.model import Config, Model, Param
from ctxcheck.primitives import Cell, Struct, field


class _Counter(Struct):
    """The one shared word every thread increments."""

    _label = "shared"
    value: Cell = field(0)


class _Private(Struct):
    """A thread's own word."""

    _label = "own"
    value: Cell = field(0)


def _worker(k: Kernel, own: _Private, shared: _Counter) -> Generator[Any, Any, None]:
    """Two private accesses, then one shared one."""
    v = yield k.load(own.value)
    yield k.store(own.value, v + 1)
    yield k.atomic_add_return(shared.value, 1)


def _family_setup(m: Machine, cfg: Config) -> _Counter:
    shared = m.new(_Counter)
    for i in range(cfg["threads"]):
        m.spawn(f"T{i}", _worker, m.new(_Private), shared)
    return shared


FAMILY = Model(
    name="bench.family",
    setup=_family_setup,
    doc="N threads: two private accesses and one shared atomic_add_return each (N! traces).",
    params=(Param("threads", 2, 1, 8, "number of threads"),),
)
