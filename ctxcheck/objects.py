"""Shared objects: the memory a model's threads race on.

Every shared location is a :class:`SharedObject` with an ``oid`` given in
creation order (so two replays of one schedule name objects identically) and
a human name (``ctx#1.refcount``) used in traces. Threads never touch these
objects directly: they yield operations (:mod:`ctxcheck.ops`) that the runtime
performs, which is how every access is seen, ordered and checked.

Structs (:class:`Struct`) group fields the way a C struct does; each field is
its own object, so accesses to two fields of one struct are independent for
partial-order reduction, as they are on real hardware. A heap struct
(``kmalloc``) carries a lifetime: once freed, any access through one of its
fields is a use after free, detected by the access itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ctxcheck.machine import Machine, Thread


class SharedObject:
    """Anything a footprint can name: a cell, a list node, a lock, a struct."""

    __slots__ = ("oid", "name", "owner")

    def __init__(self, machine: Machine, name: str, owner: Struct | None = None) -> None:
        self.oid = machine.register(self, name)
        self.name = name
        self.owner = owner

    def __repr__(self) -> str:
        return self.name


class Cell(SharedObject):
    """One machine word: a plain variable, a pointer or an ``atomic_t``."""

    __slots__ = ("value",)

    def __init__(
        self, machine: Machine, name: str, value: Any = None, owner: Struct | None = None
    ) -> None:
        super().__init__(machine, name, owner)
        self.value = value


class _Poison:
    """LIST_POISON1/2: what ``list_del`` leaves in a deleted entry."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


LIST_POISON1 = _Poison("LIST_POISON1")
LIST_POISON2 = _Poison("LIST_POISON2")


class ListHead(SharedObject):
    """A ``struct list_head``: a list head or an entry embedded in a struct.

    ``next``/``prev`` are other nodes, a poison value after ``list_del``, or
    None before ``INIT_LIST_HEAD`` (an uninitialised entry).
    """

    __slots__ = ("next", "prev")

    def __init__(self, machine: Machine, name: str, owner: Struct | None = None) -> None:
        super().__init__(machine, name, owner)
        self.next: ListHead | _Poison | None = self
        self.prev: ListHead | _Poison | None = self

    def is_linked(self) -> bool:
        """True while the node sits between two other nodes of a list."""
        return isinstance(self.next, ListHead) and self.next is not self

    def entries(self) -> Iterator[ListHead]:
        """Walk the list from this head (for properties; not a model step)."""
        node = self.next
        seen = 0
        while isinstance(node, ListHead) and node is not self:
            yield node
            node = node.next
            seen += 1
            if seen > 10_000:  # a corrupted, cyclic list: stop, do not hang
                return


class Lock(SharedObject):
    """Common state of spinlocks and mutexes: who holds it."""

    __slots__ = ("holder",)
    kind: ClassVar[str] = "lock"

    def __init__(self, machine: Machine, name: str, owner: Struct | None = None) -> None:
        super().__init__(machine, name, owner)
        self.holder: Thread | None = None


class Spinlock(Lock):
    """A ``spinlock_t``. Waiting threads are blocked, not spinning steps."""

    __slots__ = ()
    kind = "spinlock"


class Mutex(Lock):
    """A ``struct mutex``: sleeping lock, never taken with IRQs off."""

    __slots__ = ()
    kind = "mutex"


class FieldSpec:
    """How a struct field is built: a cell with a default, a list, a lock."""

    __slots__ = ("factory", "default")

    def __init__(self, factory: type[SharedObject], default: Any = None) -> None:
        self.factory = factory
        self.default = default


def field(default: Any = None) -> Any:
    """A word field (plain, pointer or atomic) with its initial value."""
    return FieldSpec(Cell, default)


def list_head() -> Any:
    """An embedded ``struct list_head``, initialised empty (self-linked)."""
    return FieldSpec(ListHead)


def spinlock() -> Any:
    """An embedded ``spinlock_t``, unlocked."""
    return FieldSpec(Spinlock)


def mutex() -> Any:
    """An embedded ``struct mutex``, unlocked."""
    return FieldSpec(Mutex)


class Struct(SharedObject):
    """A C struct whose fields are shared objects.

    Subclass it and declare fields with :func:`field`, :func:`list_head`,
    :func:`spinlock` and :func:`mutex`::

        class perf_counter_context(Struct):
            lock: Spinlock = spinlock()
            nr_counters: Cell = field(0)

    The struct object itself stands for its lifetime: ``kfree`` writes it,
    every field access reads it, so a free races with every access.
    Attributes that are not fields (set in ``__init__`` of a subclass, or
    passed as keyword arguments that are not fields) are constant for the
    struct's life and may be read without a step.
    """

    __slots__ = ("__dict__", "heap", "freed", "freed_at")
    _fields: ClassVar[dict[str, FieldSpec]] = {}
    #: short name used for instances in traces (``ctx#1``); the class name if unset
    _label: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(getattr(cls, "_fields", {}))
        for name, value in list(cls.__dict__.items()):
            if isinstance(value, FieldSpec):
                fields[name] = value
                delattr(cls, name)
        cls._fields = fields

    def __init__(
        self, machine: Machine, name: str | None = None, heap: bool = False, **init: Any
    ) -> None:
        kind = type(self)._label or type(self).__name__
        if name is None:
            seq = machine.struct_seq(kind)
            name = f"{kind}#{seq}"
        super().__init__(machine, name, None)
        self.heap = heap
        self.freed = False
        self.freed_at: int | None = None
        for fname, spec in self._fields.items():
            fullname = f"{name}.{fname}"
            obj: SharedObject
            if spec.factory is Cell:
                obj = Cell(machine, fullname, init.pop(fname, spec.default), owner=self)
            else:
                obj = spec.factory(machine, fullname, owner=self)
            setattr(self, fname, obj)
        for key, value in init.items():
            setattr(self, key, value)

    def field_objects(self) -> Iterator[tuple[str, SharedObject]]:
        """The struct's fields, in declaration order."""
        for fname in self._fields:
            yield fname, getattr(self, fname)


def describe(value: Any) -> str:
    """Short text for a value in a trace: names for objects, repr otherwise."""
    if value is None:
        return "NULL"
    if isinstance(value, SharedObject | _Poison):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    return repr(value)
