"""A lost update: threads bump a shared counter without atomics.

The classic first race: ``counter++`` compiled to a load and a store lets two
threads read the same value and one increment vanish. Variant ``racy`` does
exactly that; variant ``atomic`` uses ``atomic_inc`` and holds; variant
``locked`` takes a spinlock around the load and store, and holds too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctxcheck import (
    Cell,
    Config,
    Kernel,
    Machine,
    Model,
    Param,
    Property,
    Spinlock,
    Struct,
    Variant,
    field,
    spinlock,
)
from ctxcheck.kernel import Steps


class shared_data(Struct):
    """The one shared struct: a counter and the lock of the locked variant."""

    _label = "data"
    counter: Cell = field(0)
    lock: Spinlock = spinlock()


@dataclass
class State:
    data: shared_data
    threads: int


def inc_racy(k: Kernel, data: shared_data) -> Steps:
    """``data->counter++`` as the compiler emits it: load, add, store."""
    value = yield k.load(data.counter)
    yield k.store(data.counter, value + 1)


def inc_atomic(k: Kernel, data: shared_data) -> Steps:
    """``atomic_inc(&data->counter)``."""
    yield k.atomic_inc(data.counter)


def inc_locked(k: Kernel, data: shared_data) -> Steps:
    """``spin_lock(&data->lock); data->counter++; spin_unlock(&data->lock)``."""
    yield k.spin_lock(data.lock)
    yield from inc_racy(k, data)
    yield k.spin_unlock(data.lock)


BODIES = {"racy": inc_racy, "atomic": inc_atomic, "locked": inc_locked}


def setup(m: Machine, cfg: Config) -> State:
    data = m.new(shared_data, name="data")
    body = BODIES[cfg.variant]
    for i in range(cfg["threads"]):
        m.spawn(f"T{i}", body, data)
    return State(data, cfg["threads"])


def no_lost_update(m: Machine, s: State) -> str | None:
    """Every increment is counted."""
    if s.data.counter.value != s.threads:
        return f"counter is {s.data.counter.value} after {s.threads} increments"
    return None


MODEL = Model(
    name="examples.lost_update",
    doc=__doc__ or "",
    setup=setup,
    params=(Param("threads", 2, 1, 8, "number of incrementing threads"),),
    variants=(
        Variant("racy", "load then store: increments can be lost"),
        Variant("atomic", "atomic_inc: the fix"),
        Variant("locked", "load and store under a spinlock: another fix"),
    ),
    properties=(
        Property("no_lost_update", no_lost_update.__doc__ or "", no_lost_update, final=True),
    ),
)
