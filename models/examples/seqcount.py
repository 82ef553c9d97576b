"""A seqcount_t: writers bump a sequence count around two stores, readers retry.

The pattern of ``<linux/seqlock.h>``: a writer, serialised against other
writers by a spinlock, makes the count odd (``write_seqcount_begin``),
writes the data, and makes it even again (``write_seqcount_end``). A
reader waits for an even count (``read_seqcount_begin``), reads the data
without any lock, and starts again if the count has changed meanwhile
(``read_seqcount_retry``). Here the data is two words that every writer
sets to the same value, so a reader that returns two different words has
seen half of a write: a torn read.

Variants:

* ``correct``: ``read_seqcount_begin`` spins while the count is odd, with
  the wait primitive (``smp_cond_load_relaxed``: the reader is blocked, not
  looping through steps, until the count is even), and the reader retries
  without a cap;
* ``buggy``: ``read_seqcount_begin`` takes the count as it finds it, odd or
  not. A reader that starts inside a write, reads the half-written pair and
  finds the count unchanged accepts the torn pair.

Barriers (``smp_wmb``, ``smp_rmb``) are comments: every step is sequentially
consistent, so the model checks the protocol, not the ordering the barriers
give on a weaker memory model.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctxcheck import (
    Cell,
    Config,
    Expectation,
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


class seqcount_data(Struct):
    """A seqcount, the lock that serialises its writers, and the two words it guards."""

    _label = "sc"
    sequence: Cell = field(0)
    lock: Spinlock = spinlock()
    data0: Cell = field(0)
    data1: Cell = field(0)


@dataclass
class State:
    sc: seqcount_data
    readers: list[str]


def write_seqcount_begin(k: Kernel, s: seqcount_data) -> Steps:
    """``s->sequence++; smp_wmb();`` (writers hold the lock: a plain increment)."""
    seq = yield k.load(s.sequence)
    yield k.store(s.sequence, seq + 1)


def write_seqcount_end(k: Kernel, s: seqcount_data) -> Steps:
    """``smp_wmb(); s->sequence++;``."""
    seq = yield k.load(s.sequence)
    yield k.store(s.sequence, seq + 1)


def writer(k: Kernel, s: seqcount_data, value: int) -> Steps:
    """Update both words under the writers' lock."""
    yield k.spin_lock(s.lock)
    yield from write_seqcount_begin(k, s)
    yield k.store(s.data0, value)
    yield k.store(s.data1, value)
    yield from write_seqcount_end(k, s)
    yield k.spin_unlock(s.lock)


def read_seqcount_begin(k: Kernel, s: seqcount_data) -> Steps:
    """``while ((seq = READ_ONCE(s->sequence)) & 1) cpu_relax(); smp_rmb();``."""
    seq = yield k.smp_cond_load_relaxed(s.sequence, lambda val: val % 2 == 0)
    return seq


def read_seqcount_begin_buggy(k: Kernel, s: seqcount_data) -> Steps:
    """The bug: no wait for an even count; an odd one is taken as it is."""
    seq = yield k.load(s.sequence)
    return seq


def read_seqcount_retry(k: Kernel, s: seqcount_data, start: int) -> Steps:
    """``smp_rmb(); return s->sequence != start;``."""
    now = yield k.load(s.sequence)
    return now != start


def reader(k: Kernel, s: seqcount_data, begin: object) -> Steps:
    """``do { seq = read_seqcount_begin(); a = d0; b = d1; } while (read_seqcount_retry())``.

    Returns the pair it read: the thread's result, which the final
    property looks at.
    """
    while True:
        seq = yield from begin(k, s)  # type: ignore[operator]
        a = yield k.load(s.data0)
        b = yield k.load(s.data1)
        retry = yield from read_seqcount_retry(k, s, seq)
        if not retry:
            return (a, b)


def setup(m: Machine, cfg: Config) -> State:
    sc = m.new(seqcount_data, name="sc")
    begin = read_seqcount_begin if cfg.variant == "correct" else read_seqcount_begin_buggy
    for i in range(cfg["writers"]):
        m.spawn(f"writer{i}", writer, sc, i + 1)
    names = [f"reader{i}" for i in range(cfg["readers"])]
    for name in names:
        m.spawn(name, reader, sc, begin)
    return State(sc, names)


def no_torn_read(m: Machine, s: State) -> str | None:
    """Every reader returns both words of one write."""
    results = m.results()
    for name in s.readers:
        a, b = results[name]
        if a != b:
            return f"{name} returned ({a}, {b}): half of a write"
    return None


MODEL = Model(
    name="examples.seqcount",
    doc=__doc__ or "",
    setup=setup,
    follows="include/linux/seqlock.h (seqcount_t)",
    params=(
        Param("writers", 2, 1, 3, "writers, serialised by a spinlock"),
        Param("readers", 2, 1, 3, "readers, retrying without a cap"),
    ),
    variants=(
        Variant("correct", "read_seqcount_begin waits for an even count"),
        Variant("buggy", "read_seqcount_begin accepts an odd count"),
    ),
    properties=(Property("no_torn_read", no_torn_read.__doc__ or "", no_torn_read, final=True),),
    expectations=(
        Expectation("correct", holds=True),
        Expectation(
            "buggy",
            holds=False,
            properties=("no_torn_read",),
            reason="a reader that starts inside a write accepts the half-written pair",
        ),
    ),
)
