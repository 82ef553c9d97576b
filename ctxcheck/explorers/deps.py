"""Dependence between steps, shared by the reducing explorers and the tests.

Two steps of different threads are *dependent* when they touch one object
and at least one of them writes (taking or releasing a lock counts as a
write of the lock). The footprints the operations declare give most of it;
two things they cannot see are added here, because without them a
partial-order reduction misses violations the naive explorer finds:

* **Invariants observe writes.** A model's invariant (a non-final
  property) is a predicate over the state, evaluated after each step that
  wrote memory. Two writes to different objects commute, but the states
  *between* them differ, and an invariant that reads both objects can fail
  in one order only. So a writing step that some invariant ``i`` observes
  (it writes an object ``i`` has read, see :mod:`ctxcheck.observe`) also
  writes the pseudo-object ``VISIBLE - i``, and two steps visible to one
  invariant are ordered (the "visible transitions" condition of
  partial-order reduction, per invariant). Two writes seen only by
  different invariants need no ordering: each invariant sees the same
  sequence of values of what it reads in either order, and a violation,
  which ends the run, is dependent with everything (below), so the other
  order is explored when one of them fails first.
* **Creation order names threads.** Threads are numbered in creation
  order, so two ``spawn`` steps of different threads, which touch nothing
  in common, still decide each other's thread ids. Explorers that compare
  steps *across* executions by thread id (wakeup trees, the trace counter
  of the tests) need the ids a step names to be the same in every
  equivalent execution, so for them a spawn writes the pseudo-object
  :data:`CREATE`. Objects need no such ordering: an object's id says who
  created it, not when (:meth:`ctxcheck.machine.Machine.register`), so two
  ``kmalloc`` steps of different threads commute. Source-DPOR orders no
  creation at all: its races are found within one execution, and a
  sleeping step's footprint names only threads that existed when it went
  to sleep, which keep their ids in every continuation. On
  ``perf_counter.ctx_create`` (2 openers, one context switch) ordering
  every creation made odpor run 8,037 executions; ordering spawns only,
  895.
* **A violation stops everything.** An execution ends at its first
  violation, so the violating step disables every other thread: it is
  dependent with every step (:data:`UNIVERSAL`). Otherwise a violation in
  one thread would hide another thread's violation that a reordering of
  independent steps reaches first. Violations found in the final state
  (final properties, deadlock) stop nothing: no thread could move anyway,
  and equivalent executions end in the same state.
"""

from __future__ import annotations

from ctxcheck.model import Model
from ctxcheck.primitives.base import ADD, READ, WRITE, Footprint
from ctxcheck.runtime import Execution, Found

#: pseudo-object of the first invariant: a step visible to invariant ``i``
#: writes ``VISIBLE - i``
VISIBLE = -16
#: pseudo-object written by every step that creates a thread (for odpor)
CREATE = -3
#: pseudo-object of a step that ended the execution with a violation
UNIVERSAL = -1
#: the footprint of such a step: dependent with every other step
ERROR_FOOTPRINT: Footprint = ((UNIVERSAL, WRITE),)


def has_invariants(model: Model) -> bool:
    """Whether some property is checked after every step (not only at the end)."""
    return bool(model.invariants())


def stops_others(model: Model, found: Found | None) -> bool:
    """Whether a violation cut the execution while other threads could move."""
    if found is None or found.prop == "deadlock":
        return False
    return not any(p.final and p.name == found.prop for p in model.properties)


def step_footprint(ex: Execution, tid: int, visible: bool, names: bool = True) -> Footprint:
    """The footprint of ``tid``'s next step, with :data:`VISIBLE` when observed.

    ``names``: spawn steps write :data:`CREATE` (thread ids the same across
    equivalent executions; see the module docstring).
    """
    t = ex.machine.threads[tid]
    pending = t.pending
    assert pending is not None
    own = pending.footprint(ex.machine, t)  # once: the footprint and the mask both need it
    fp = ex.footprint(tid, own)
    if names and pending.creates_thread:
        fp = (*fp, (CREATE, WRITE))
    if visible:
        mask = ex.visible(tid, own)
        if mask:  # one tuple built, not one per invariant (part) that sees the step
            seen = []
            i = 0
            while mask:
                if mask & 1:
                    seen.append((VISIBLE - i, WRITE))
                mask >>= 1
                i += 1
            fp = (*fp, *seen)
    return fp


def conflicting(ka: int, kb: int) -> bool:
    """Whether two accesses of one object do not commute.

    Reads commute with reads, and a read-modify-write whose result nobody
    sees (:data:`~ctxcheck.primitives.base.ADD`, ``atomic_inc``) with another:
    everything else on one object conflicts.
    """
    return not (ka == kb and ka in (READ, ADD))


def dependent(a: Footprint, b: Footprint) -> bool:
    """Whether two steps (of different threads) do not commute."""
    for oid, ka in a:
        if oid == UNIVERSAL:
            return True
        for oid2, kb in b:
            if oid2 == UNIVERSAL or (oid == oid2 and conflicting(ka, kb)):
                return True
    return not a and any(oid == UNIVERSAL for oid, _ in b)


def disabled_by(ex: Execution, before: list[int], tid: int) -> list[int]:
    """Threads enabled before ``tid``'s step and stopped by it (not finished).

    Turning IRQs off, an interrupt entering a CPU, a context switch or an
    ``rcu_read_lock`` stop another thread from moving; when it moves again,
    its nearest conflict is the step that let it go, the wrong place to go
    back to, so the reducing explorers race the stopped thread with the step
    that stopped it. A thread waiting for a lock the mover has just taken is
    left out: the two acquisitions' race covers it.
    """
    now = set(ex.enabled())
    mover = ex.thread(tid)
    out = []
    for q in before:
        if q == tid or q in now or ex.thread(q).finished:
            continue
        pending = ex.thread(q).pending
        if pending is not None and pending.waits_for(mover):
            continue
        out.append(q)
    return out
