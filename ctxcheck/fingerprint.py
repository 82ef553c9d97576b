"""State fingerprints: when are two points of two executions the same state?

The stateful ``bfs`` explorer merges states it has already seen. Generators
cannot be copied, so a state is only ever *reached* (by replaying its
schedule); what is stored is a fingerprint of everything the rest of the
execution can observe:

* every shared object: a cell's value, a list node's links, a lock's
  holder, whether a heap struct was freed (and its constant attributes);
* every CPU's interrupt handler (its ``curr`` is a cell, covered above);
* every thread: finished or not, IRQ/preemption/RCU state, the locks it
  holds, its result, the operation it is about to perform and its control
  state, i.e. the chain of generator frames it is suspended in (code object,
  instruction offset, local variables, and what the frame keeps on its value
  stack, such as a ``for`` loop's iterator and so its position);
* the model's state object, which properties read (the machine it may
  hold is the machine above, not walked again).

Each primitive gives the canonical form of its own state
(:meth:`~ctxcheck.primitives.base.SharedObject.canonical`). Values are
canonicalised so that the fingerprint of one state is the same in every
replay: shared objects become their ``oid`` (the same in every execution of
one search), threads their ``tid``, plain values stay
themselves, containers and ordinary objects are walked structurally (with
sharing and cycles made explicit). Anything that cannot be canonicalised
falls back to a fresh token, which can only make two equal states look
different (less merging), never two different states look equal.

Not part of a state: step numbers (``freed_at``, the step count) and object
*names*, which only feed messages; merging states reached at different
depths is the point of a stateful search.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import types
from typing import Any

from ctxcheck.kernel import Kernel
from ctxcheck.machine import Machine, Thread
from ctxcheck.primitives.base import Op, SharedObject, _Poison
from ctxcheck.primitives.cpu import CPU
from ctxcheck.runtime import Execution

_PLAIN = (int, str, bytes, type(None))
_fresh = itertools.count()
#: builtin iterators not named ``*iterator``; all describe themselves by ``__reduce__``
_ITERATORS = frozenset({"enumerate", "zip", "map", "filter", "reversed"})


class _Canon:
    """Turns values into nested tuples of plain data, deterministically."""

    #: where this walk's numbers of shared values start (see :mod:`ctxcheck.symmetry`)
    offset = 0

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}
        #: keeps walked objects alive so their ids are not reused mid-walk
        self.keep: list[Any] = []

    def value(self, x: Any) -> Any:
        """The canonical form of one value."""
        if isinstance(x, bool):
            return ("bool", x)
        if isinstance(x, _PLAIN):
            return x
        if isinstance(x, float):
            return ("float", x)
        if isinstance(x, range | slice):
            # a ``for i in range(n)`` keeps its range on the value stack
            return (type(x).__name__, x.start, x.stop, x.step)
        if isinstance(x, SharedObject):
            return ("o", x.oid)
        if isinstance(x, Thread):
            return ("t", x.tid)
        if isinstance(x, CPU):
            return ("cpu", x.index)
        if isinstance(x, Kernel):
            return ("k",)
        if isinstance(x, Machine):
            # what of the machine is state (objects, CPUs, threads) is
            # described by state_of; the rest is bookkeeping that differs
            # between replays (a dict keyed by id(), the step count) and
            # would keep every state from ever merging with another
            return ("machine",)
        if isinstance(x, _Poison):
            return ("poison", x.label)
        return self._compound(x)

    def _compound(self, x: Any) -> Any:
        key = id(x)
        ref = self.seen.get(key)
        if ref is not None:
            return ("ref", ref)
        self.seen[key] = self.offset + len(self.seen)
        self.keep.append(x)
        if isinstance(x, tuple | list):
            return (type(x).__name__, tuple(self.value(v) for v in x))
        if isinstance(x, dict):
            return ("dict", tuple((self.value(k), self.value(v)) for k, v in x.items()))
        if isinstance(x, set | frozenset):
            return ("set", tuple(sorted((self.value(v) for v in x), key=repr)))
        if isinstance(x, types.GeneratorType):
            return ("gen", self.frames(x))
        if isinstance(x, types.FunctionType):
            return self._function(x)
        if isinstance(x, type | types.ModuleType | types.BuiltinFunctionType):
            return ("def", getattr(x, "__module__", ""), getattr(x, "__qualname__", x.__name__))
        if isinstance(x, types.MethodType):
            return ("method", self.value(x.__self__), self._function(x.__func__))
        if isinstance(x, Op):
            return self._slots(x)
        return self._object(x)

    def _function(self, f: Any) -> Any:
        code = getattr(f, "__code__", None)
        if code is None:
            return ("fresh", next(_fresh))
        cells = tuple(self.value(c.cell_contents) for c in (f.__closure__ or ()))
        return ("fn", code.co_filename, code.co_firstlineno, code.co_name, cells)

    def _slots(self, x: Any) -> Any:
        names = [n for cls in type(x).__mro__ for n in getattr(cls, "__slots__", ())]
        return (type(x).__qualname__, tuple(self.value(getattr(x, n, None)) for n in names))

    def _object(self, x: Any) -> Any:
        attrs = getattr(x, "__dict__", None)
        if attrs is not None:
            return (type(x).__qualname__, self.value(dict(attrs)))
        if hasattr(type(x), "__slots__"):
            return self._slots(x)
        return ("fresh", next(_fresh))

    def _stack(self, gen: Any) -> tuple[Any, ...]:
        """What a frame holds beyond its locals, on its value stack.

        A ``for`` loop keeps its iterator there, and with it the loop's
        position: two states at the same instruction with the same locals
        can be at different iterations. The generator's referents hold the
        stack (and the locals, code and names, already covered); iterators
        are described by their ``__reduce__`` (the sequence and the index),
        other temporaries by value. Code, functions, closure cells and names
        are left out: they are the frame's own, fixed for its life; so are the
        frame object and its locals dict, which exist once someone (this
        module) has asked for ``f_locals``.
        """
        skip = (types.CodeType, types.FunctionType, types.CellType, types.FrameType, str, dict)
        held = [r for r in gc.get_referents(gen) if not isinstance(r, skip)]
        return tuple(self._held(r) for r in held)

    def _held(self, x: Any) -> Any:
        name = type(x).__name__
        if name in _ITERATORS or name.endswith("iterator"):
            try:
                return ("iter", name, self.value(x.__reduce__()[1:]))
            except TypeError:
                return ("fresh", next(_fresh))
        return self.value(x)

    def frames(self, gen: Any) -> tuple[Any, ...]:
        """The suspended frame chain of a generator: where it is, what it holds."""
        out: list[Any] = []
        while gen is not None:
            frame = getattr(gen, "gi_frame", None)
            if frame is None:
                break
            code = frame.f_code
            # by name: the locals dict of a frame asked before keeps the order
            # its names were first bound in, so the same state would read two ways
            local = tuple((k, self.value(v)) for k, v in sorted(frame.f_locals.items()))
            where = (code.co_filename, code.co_firstlineno, code.co_name, frame.f_lasti)
            out.append((*where, local, *self._stack(gen)))
            gen = getattr(gen, "gi_yieldfrom", None)
        return tuple(out)


def _thread_state(t: Thread, canon: _Canon) -> Any:
    if t.finished:
        return ("done", canon.value(t.result))
    pending = canon.value(t.pending) if t.pending is not None else None
    return (
        t._irqs_off, t._preempt_count, t.rcu_depth, t.in_irq,
        tuple(lock.oid for lock in t.held), pending, canon.frames(t.gen),
    )  # fmt: skip


def state_of(machine: Machine, state: Any) -> tuple[Any, ...]:
    """The canonical description of a machine and the model's state object."""
    canon = _Canon()
    # each object with its id: objects are created in schedule order, so by
    # position alone two states whose threads allocated in another order,
    # with the values swapped, would read the same
    by_oid = machine.by_oid
    objects = tuple((oid, by_oid[oid].canonical(canon)) for oid in sorted(by_oid))
    cpus = tuple(-1 if c._handler is None else c._handler.tid for c in machine.cpus)
    threads = tuple(_thread_state(t, canon) for t in machine.threads)
    return (objects, cpus, threads, len(machine.unstarted), canon.value(state))


def fingerprint(ex: Execution) -> bytes:
    """A 128-bit digest of the state an execution has reached."""
    text = repr(state_of(ex.machine, ex.state)).encode()
    return hashlib.blake2b(text, digest_size=16).digest()
