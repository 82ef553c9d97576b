"""The primitives a model's threads race on, one module per primitive.

Each module holds one primitive whole: its state, the operations a thread
yields on it (with their footprints, enabling rules and trace text), why a
blocked operation waits, the canonical state for fingerprints, and the
reads a property makes of it. ``k.`` (:class:`ctxcheck.kernel.Kernel`) is the
model-facing facade over these operations, with the kernel's names.

======================  ====================================================
:mod:`.base`            shared objects, operations, access kinds
:mod:`.memory`          cells: load, store, cmpxchg, xchg, atomic_*
:mod:`.heap`            structs, kmalloc, kfree
:mod:`.lists`           list_head, list_add*, list_del*, list_empty
:mod:`.locks`           spinlocks and mutexes
:mod:`.cpu`             CPUs, IRQ and preemption state, interrupts, switches
:mod:`.threads`         spawn, wait_for
:mod:`.rcu`             read-side sections, grace periods
:mod:`.choice`          nondeterministic choices
:mod:`.observation`     assertion points inside threads
:mod:`.wait`            spin-waits that block: spin_until, smp_cond_load_*
======================  ====================================================
"""

from __future__ import annotations

from ctxcheck.primitives.base import Op, SharedObject, describe
from ctxcheck.primitives.cpu import CPU
from ctxcheck.primitives.heap import Struct, field
from ctxcheck.primitives.lists import LIST_POISON1, LIST_POISON2, ListHead, list_head
from ctxcheck.primitives.locks import Lock, Mutex, Spinlock, mutex, spinlock
from ctxcheck.primitives.memory import Cell

__all__ = [
    "CPU", "LIST_POISON1", "LIST_POISON2", "Cell", "ListHead", "Lock", "Mutex", "Op",
    "SharedObject", "Spinlock", "Struct", "describe", "field", "list_head", "mutex",
    "spinlock",
]  # fmt: skip
