"""Dependence between steps, shared by the reducing explorers and the tests.

Two steps of different threads are *dependent* when they touch one object
and at least one of them writes (taking or releasing a lock counts as a
write of the lock). The footprints the operations declare give most of it;
two things they cannot see are added here, because without them a
partial-order reduction misses violations the naive explorer finds:

* **Invariants observe every write.** A model's invariant (a non-final
  property) is a predicate over the whole state, evaluated after each step
  that wrote memory. Two writes to different objects commute, but the
  states *between* them differ, and an invariant can fail in one order
  only. When the model has invariants, every writing step also writes the
  pseudo-object :data:`VISIBLE`, so their order is explored (the
  "visible transitions" condition of partial-order reduction).
* **Creation order names things.** Objects and threads are numbered in
  creation order, so two ``kmalloc`` or ``spawn`` steps of different
  threads, which touch nothing in common, still decide each other's names.
  They write the pseudo-object :data:`CREATE`, which keeps the names of
  everything a step touches the same in every equivalent execution (what
  wakeup trees and the trace counter rely on).
* **A violation stops everything.** An execution ends at its first
  violation, so the violating step disables every other thread: it is
  dependent with every step (:data:`UNIVERSAL`). Otherwise a violation in
  one thread would hide another thread's violation that a reordering of
  independent steps reaches first. Violations found in the final state
  (final properties, deadlock) stop nothing: no thread could move anyway,
  and equivalent executions end in the same state.
"""

from __future__ import annotations

from ctxcheck import ops
from ctxcheck.model import Model
from ctxcheck.runtime import Execution, Found

Footprint = ops.Footprint

#: pseudo-object written by every writing step of a model with invariants
VISIBLE = -2
#: pseudo-object written by every step that creates objects or threads
CREATE = -3
#: pseudo-object of a step that ended the execution with a violation
UNIVERSAL = -1
#: the footprint of such a step: dependent with every other step
ERROR_FOOTPRINT: Footprint = ((UNIVERSAL, ops.WRITE),)


def has_invariants(model: Model) -> bool:
    """Whether some property is checked after every step (not only at the end)."""
    return any(not p.final for p in model.properties)


def stops_others(model: Model, found: Found | None) -> bool:
    """Whether a violation cut the execution while other threads could move."""
    if found is None or found.prop == "deadlock":
        return False
    return not any(p.final and p.name == found.prop for p in model.properties)


def step_footprint(ex: Execution, tid: int, visible: bool) -> Footprint:
    """The footprint of ``tid``'s next step, with :data:`VISIBLE` when observed."""
    fp = ex.footprint(tid)
    if isinstance(ex.thread(tid).pending, ops.Kmalloc | ops.Spawn):
        fp = (*fp, (CREATE, ops.WRITE))
    if visible and ex.visible(tid):
        fp = (*fp, (VISIBLE, ops.WRITE))
    return fp


def dependent(a: Footprint, b: Footprint) -> bool:
    """Whether two steps (of different threads) do not commute."""
    for oid, ka in a:
        if oid == UNIVERSAL:
            return True
        for oid2, kb in b:
            if oid2 == UNIVERSAL or (oid == oid2 and not (ka == ops.READ and kb == ops.READ)):
                return True
    return not a and any(oid == UNIVERSAL for oid, _ in b)
