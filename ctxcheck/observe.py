"""Which shared objects does an invariant read? Recorded while it runs.

Partial-order reduction may reorder two writes to different objects: the end
state is the same, but the states *between* them differ, and an invariant
checked after every step can fail in one order only. Treating every write as
visible to invariants is sound but defeats the reduction on kernel models,
where most writes touch objects no invariant looks at (a counter's private
fields before it is published, a task reference count). So the runtime
records what invariants actually read, and only writes to those objects are
visible to the explorers (:meth:`ctxcheck.runtime.Execution.visible`).

Recording works by swapping, for the duration of the invariant checks only,
the attribute descriptors through which a property can see shared state
(a cell's value, a list node's links, a lock's holder, a struct's freed
flag, a CPU's interrupt handler) for ones that note the object's id. The
normal execution path pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ctxcheck.machine import CPU
from ctxcheck.objects import Cell, ListHead, Lock, Struct

#: (class, attribute, how to find the id of the object that attribute belongs to)
_WATCHED: tuple[tuple[type, str, Callable[[Any], int]], ...] = (
    (Cell, "value", lambda o: o.oid),
    (ListHead, "next", lambda o: o.oid),
    (ListHead, "prev", lambda o: o.oid),
    (Lock, "holder", lambda o: o.oid),
    (Struct, "freed", lambda o: o.oid),
    (CPU, "handler", lambda o: o.exec.oid),
)


def _tracking(slot: Any, oid_of: Callable[[Any], int], seen: set[int]) -> property:
    def get(self: Any) -> Any:
        seen.add(oid_of(self))
        return slot.__get__(self, type(self))

    def set_(self: Any, value: Any) -> None:
        slot.__set__(self, value)

    return property(get, set_)


@contextmanager
def reads_into(seen: set[int]) -> Iterator[set[int]]:
    """Within the block, every read of watched shared state adds an id to ``seen``."""
    saved = []
    for cls, name, oid_of in _WATCHED:
        slot = cls.__dict__[name]
        saved.append((cls, name, slot))
        setattr(cls, name, _tracking(slot, oid_of, seen))
    try:
        yield seen
    finally:
        for cls, name, slot in saved:
            setattr(cls, name, slot)
