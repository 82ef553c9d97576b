"""C structs and their lifetimes: :class:`Struct`, ``kmalloc`` and ``kfree``.

A struct groups fields the way a C struct does; each field is its own shared
object, so accesses to two fields of one struct are independent for
partial-order reduction, as they are on real hardware. A heap struct
(``kmalloc``) carries a lifetime: once freed, any access through one of its
fields is a use after free, detected by the access itself. The struct object
itself stands for that lifetime: ``kfree`` writes it, every field access
reads it, so a free races with every access.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ctxcheck.errors import PropertyViolated
from ctxcheck.primitives.base import (
    MEMORY_SAFETY,
    WRITE,
    Canon,
    Footprint,
    Op,
    SharedObject,
    StepMachine,
    StepThread,
    describe,
)
from ctxcheck.primitives.memory import Cell


class FieldSpec:
    """How a struct field is built: a cell with a default, a list, a lock."""

    __slots__ = ("default", "factory")

    def __init__(self, factory: type[SharedObject], default: Any = None) -> None:
        self.factory = factory
        self.default = default


def field(default: Any = None) -> Any:
    """A word field (plain, pointer or atomic) with its initial value."""
    return FieldSpec(Cell, default)


class Struct(SharedObject):
    """A C struct whose fields are shared objects.

    Subclass it and declare fields with :func:`field`,
    :func:`~ctxcheck.primitives.lists.list_head`,
    :func:`~ctxcheck.primitives.locks.spinlock` and
    :func:`~ctxcheck.primitives.locks.mutex`::

        class perf_counter_context(Struct):
            lock: Spinlock = spinlock()
            nr_counters: Cell = field(0)

    Attributes that are not fields (set in ``__init__`` of a subclass, or
    passed as keyword arguments that are not fields) are constant for the
    struct's life and may be read without a step.
    """

    __slots__ = ("__dict__", "_freed", "freed_at", "heap")
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
        self, machine: StepMachine, name: str | None = None, heap: bool = False, **init: Any
    ) -> None:
        kind = type(self)._label or type(self).__name__
        if name is None:
            name = f"{kind}#{machine.struct_seq(kind)}"
        super().__init__(machine, name, None)
        self.heap = heap
        self._freed = False
        self.freed_at: int | None = None
        # every struct of every run is built here (setup and kmalloc): locals, and
        # no dict lookup for the initial value of a field given none
        for fname, spec in self._fields.items():
            fullname = f"{name}.{fname}"
            obj: SharedObject
            if spec.factory is Cell:
                value = init.pop(fname, spec.default) if init else spec.default
                obj = Cell(machine, fullname, value, owner=self)
            else:
                obj = spec.factory(machine, fullname, owner=self)
            setattr(self, fname, obj)
        if init:
            for key, value in init.items():
                setattr(self, key, value)

    @property
    def freed(self) -> bool:
        """Whether ``kfree`` has freed the struct (a read an invariant makes is noted)."""
        self.noted()
        return self._freed

    def field_objects(self) -> Iterator[tuple[str, SharedObject]]:
        """The struct's fields, in declaration order."""
        for fname in self._fields:
            yield fname, getattr(self, fname)

    def canonical(self, canon: Canon) -> Any:
        attrs = tuple(
            (k, canon.value(v)) for k, v in vars(self).items() if not isinstance(v, SharedObject)
        )
        return (type(self).__qualname__, self.heap, self._freed, attrs)


class Kmalloc(Op):
    """``kmalloc``/``kzalloc`` of a struct; may fail when the model allows it.

    Branch 0 is success, branch 1 (only with ``may_fail``) returns NULL.
    """

    __slots__ = ("init", "label", "may_fail", "struct")
    name = "kmalloc"
    grows_heap = True

    def __init__(
        self, struct: type[Struct], init: dict[str, Any], may_fail: bool, label: str | None
    ) -> None:
        self.struct = struct
        self.init = init
        self.may_fail = may_fail
        self.label = label

    def branches(self, m: StepMachine, t: StepThread) -> int:
        return 2 if self.may_fail else 1

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        if branch == 1:
            return None
        return m.alloc(self.struct, name=self.label, **self.init)

    def describe(self, result: Any) -> str:
        kind = self.struct._label or self.struct.__name__
        return f"kmalloc({kind}) = {describe(result)}"

    def signature(self) -> tuple[str, int]:
        return (f"kmalloc:{self.struct.__name__}", -1)


class Kfree(Op):
    """``kfree(p)``: frees a heap struct; NULL is a no-op."""

    __slots__ = ("obj",)
    name = "kfree"

    def __init__(self, obj: Struct | None) -> None:
        self.obj = obj

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return () if self.obj is None else ((self.obj.oid, WRITE),)

    def target(self) -> SharedObject | None:
        return self.obj

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        obj = self.obj
        if obj is None:
            return None
        if not isinstance(obj, Struct) or not obj.heap:
            raise PropertyViolated(MEMORY_SAFETY, f"kfree of {describe(obj)}, not a heap object")
        if obj._freed:
            raise PropertyViolated(
                MEMORY_SAFETY, f"double free: {obj.name} was already freed at step {obj.freed_at}"
            )
        obj._freed = True
        obj.freed_at = m.step
        return None
