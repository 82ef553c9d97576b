"""Assertion points inside threads: ``observe`` and ``judge``.

A model that judges shared state from inside a thread (did the counter
start by the time the syscall returned?) must do it in a step, so that
partial-order reduction sees what the judgement depends on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctxcheck.observe import PropertyReads, reads_into
from ctxcheck.primitives.base import (
    READ,
    Footprint,
    Op,
    SharedObject,
    StepMachine,
    StepThread,
    access,
)


class Observe(Op):
    """An assertion point: one step that reads ``objects`` and changes nothing.

    The thread looks at the values right after this step, as if it had read
    them in it. Freed objects may be named: observing is not an access by
    the kernel.
    """

    __slots__ = ("label", "objects")
    name = "observe"

    def __init__(self, objects: tuple[SharedObject, ...], label: str) -> None:
        for obj in objects:
            if not isinstance(obj, SharedObject):
                raise TypeError(f"observe needs shared objects, got {obj!r}")
        self.objects = objects
        self.label = label

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        fp: list[tuple[int, int]] = []
        for obj in self.objects:
            fp.extend(access(obj, READ))
        return tuple(fp)

    def describe(self, result: Any) -> str:
        return f"observe({self.label})"

    def signature(self) -> tuple[str, int]:
        return (f"observe:{self.label}/{len(self.objects)}", -1)


class Judge(Op):
    """An assertion point that reads only what its verdict depends on.

    ``judge()`` is called in the state the step runs in; what it returns is
    the step's result. Its footprint is not declared but recorded: the
    shared state ``judge`` reads when called in the current state (through
    :func:`ctxcheck.observe.reads_into`). A judgement that stops at its
    first deciding fact (the counter is ACTIVE, so nothing else matters)
    then conflicts only with writes to that fact, and partial-order
    reduction stops ordering it against everything else it *might* read.
    That is sound for the same reason dynamic footprints of loads are: in
    the current state, a step that writes none of the objects read cannot
    change the verdict, nor the verdict its writes.
    """

    __slots__ = ("judge", "label")
    name = "observe"
    feeds_properties = True

    def __init__(self, judge: Callable[[], Any], label: str) -> None:
        self.judge = judge
        self.label = label

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        with reads_into(PropertyReads(), m) as reads:
            self.judge()
        fp: list[tuple[int, int]] = []
        for oid in sorted(reads.masks):
            fp.extend(access(m.by_oid[oid], READ))
        return tuple(fp)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        return self.judge()

    def describe(self, result: Any) -> str:
        return f"observe({self.label})"

    def signature(self) -> tuple[str, int]:
        return (f"observe:{self.label}", -1)
