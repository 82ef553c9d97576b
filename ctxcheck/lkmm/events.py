"""Events of an execution graph and their LKMM annotations.

An event is one memory access or fence performed by one thread.  Its *tags*
are the annotations that tools/memory-model/linux-kernel.bell and lock.cat
give to the instruction that produced it, written the way the cat files spell
them, so the consistency check can name its sets exactly as the model does:

- reads: ``once`` (READ_ONCE, rcu_dereference, the read of a relaxed RMW),
  ``acquire`` (smp_load_acquire, the read of an _acquire RMW), ``plain``,
  ``noreturn`` (the read of a non-value-returning atomic such as
  atomic_inc), ``lkr`` (the read half of spin_lock / a successful
  spin_trylock), ``lf`` (a failed spin_trylock), ``rl`` / ``ru``
  (spin_is_locked returning true / false), ``srcu-lock``;
- writes: ``once``, ``release``, ``plain``, ``lkw`` (the write half of a
  lock acquisition), ``ul`` (spin_unlock), ``srcu-unlock``, ``init``;
- fences: ``mb``, ``rmb``, ``wmb``, ``before-atomic``, ``after-atomic``,
  ``after-spinlock``, ``after-unlock-lock``, ``rcu-lock``, ``rcu-unlock``,
  ``sync-rcu``, ``sync-srcu`` (which also has a location), ``barrier``.

Values are ints or :class:`Addr` (the address of a shared variable), because
litmus tests and kernel code publish pointers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, order=True)
class Addr:
    """The address of the shared variable ``name`` (``&name`` in C)."""

    name: str

    def __str__(self) -> str:
        return self.name


Value = int | Addr


class Kind(Enum):
    """Read, write or fence: the three shapes of event."""

    R = "R"
    W = "W"
    F = "F"


#: Read tags that make a read a "marked" access (everything but plain).
READ_TAGS = frozenset(
    {"once", "acquire", "plain", "noreturn", "lkr", "lf", "rl", "ru", "srcu-lock"}
)
#: Write tags.
WRITE_TAGS = frozenset({"once", "release", "plain", "lkw", "ul", "srcu-unlock", "init"})
#: Fence tags (smp_mb() ... synchronize_srcu()).
FENCE_TAGS = frozenset(
    {
        "mb",
        "rmb",
        "wmb",
        "before-atomic",
        "after-atomic",
        "after-spinlock",
        "after-unlock-lock",
        "rcu-lock",
        "rcu-unlock",
        "sync-rcu",
        "sync-srcu",
        "barrier",
    }
)


@dataclass(frozen=True)
class Event:
    """One event: who did it, where in its program order, what and where.

    ``tid`` is -1 for the initial writes, which belong to no thread.  ``index``
    is the position in the thread's program order.  ``rmw`` marks the read and
    write halves of one atomic read-modify-write (including a lock
    acquisition), and the read of a failed conditional RMW.  ``label`` is the
    source text that produced the event and ``line`` its line, for witnesses a
    reviewer can hold beside the code.
    """

    tid: int
    index: int
    kind: Kind
    tag: str
    loc: str | None = None
    value: Value | None = None
    rmw: bool = False
    label: str = ""
    line: int = 0
    extra: tuple[str, ...] = field(default=())

    @property
    def is_read(self) -> bool:
        return self.kind is Kind.R

    @property
    def is_write(self) -> bool:
        return self.kind is Kind.W

    @property
    def is_fence(self) -> bool:
        return self.kind is Kind.F

    @property
    def is_init(self) -> bool:
        return self.tid < 0

    def short(self) -> str:
        """``W[once] x=1`` style, as herd7 draws events."""
        if self.kind is Kind.F:
            return f"F[{self.tag}]" + (f" {self.loc}" if self.loc else "")
        val = "" if self.value is None else f"={fmt_value(self.value)}"
        return f"{self.kind.value}[{self.tag}] {self.loc}{val}"


def fmt_value(value: Value) -> str:
    """A value as the litmus format writes it (an address is its name)."""
    return str(value)
