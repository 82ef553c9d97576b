"""Operations: the small frozen objects a model thread yields, one per step.

A thread never changes shared state itself. It yields an :class:`Op`; the
runtime asks the op whether it is enabled, which objects it touches (its
*footprint*, used by partial-order reduction) and how many nondeterministic
outcomes it has, then performs it and sends the result back into the
generator. Each op knows its own safety rules: a load through a freed struct
is a use after free, a second ``kfree`` is a double free, a ``list_del`` of a
poisoned entry breaks list integrity. These raise
:class:`~ctxcheck.errors.PropertyViolated` with the property's name.

Footprint entries are ``(oid, access)`` with ``access`` one of :data:`READ`,
:data:`WRITE`, :data:`ACQUIRE` (taking a lock), :data:`RELEASE` and
:data:`WAIT` (waiting for something another thread released). Two steps of
different threads conflict when they touch one object and at least one
writes; lock acquisitions conflict with each other; a release/wait pair
orders steps without being a race.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ctxcheck.errors import PropertyViolated
from ctxcheck.objects import (
    LIST_POISON1,
    LIST_POISON2,
    Cell,
    ListHead,
    Lock,
    Mutex,
    SharedObject,
    Struct,
    describe,
)

if TYPE_CHECKING:
    from ctxcheck.machine import CPU, Machine, Thread

READ, WRITE, ACQUIRE, RELEASE, WAIT = range(5)

Footprint = tuple[tuple[int, int], ...]

#: property names raised by the primitives themselves
MEMORY_SAFETY = "memory_safety"
LIST_INTEGRITY = "list_integrity"
LOCKING = "locking"


def _check_alive(obj: SharedObject, what: str) -> None:
    owner = obj.owner
    if owner is not None and owner.freed:
        raise PropertyViolated(
            MEMORY_SAFETY,
            f"use after free: {what} {obj.name}, but {owner.name} was freed "
            f"at step {owner.freed_at}",
        )


def _access(obj: SharedObject, kind: int) -> Footprint:
    owner = obj.owner
    if owner is not None and owner.heap:
        return ((obj.oid, kind), (owner.oid, READ))
    return ((obj.oid, kind),)


class Op:
    """One atomic step. Subclasses override what differs from the defaults."""

    __slots__ = ()
    #: the kernel name of the operation, shown in traces
    name = "op"
    #: False for steps that change no state (invariants need no re-check)
    writes = True
    #: True when :meth:`enabled` may say no (set for every subclass that overrides it)
    blocking = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.blocking = cls.enabled is not Op.enabled

    def enabled(self, m: Machine, t: Thread) -> bool:
        """Whether the step can be taken now (locks, waits)."""
        return True

    def branches(self, m: Machine, t: Thread) -> int:
        """Number of nondeterministic outcomes (1 for an ordinary step)."""
        return 1

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        """Objects touched, for partial-order reduction."""
        return ()

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        """Perform the step and return what the thread receives."""
        return None

    def target(self) -> SharedObject | None:
        """The main object of the step, for traces and nondeterminism checks."""
        return None

    def describe(self, result: Any) -> str:
        """``name(args) -> result`` for the trace."""
        tgt = self.target()
        args = tgt.name if tgt is not None else ""
        return f"{self.name}({args})" + ("" if result is None else f" = {describe(result)}")

    def signature(self) -> tuple[str, int]:
        """What a replay must see again at this step."""
        tgt = self.target()
        return (self.name, -1 if tgt is None else tgt.oid)


# ---------------------------------------------------------------- memory


class CellOp(Op):
    """An access to one cell."""

    __slots__ = ("cell",)
    access = WRITE

    def __init__(self, cell: Cell) -> None:
        if not isinstance(cell, Cell):
            raise TypeError(f"{self.name} needs a Cell (a struct field), got {cell!r}")
        self.cell = cell

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return _access(self.cell, self.access)

    def target(self) -> SharedObject:
        return self.cell

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        _check_alive(self.cell, self.name)
        return self.apply(self.cell)

    def apply(self, cell: Cell) -> Any:
        """The effect on the cell; the result returned to the thread."""
        return cell.value


class Load(CellOp):
    """``READ_ONCE(x)`` / a plain load."""

    __slots__ = ()
    name = "load"
    access = READ
    writes = False


class AtomicRead(Load):
    """``atomic_read(v)``."""

    __slots__ = ()
    name = "atomic_read"


class Store(CellOp):
    """``WRITE_ONCE(x, v)`` / a plain store."""

    __slots__ = ("value",)
    name = "store"

    def __init__(self, cell: Cell, value: Any) -> None:
        super().__init__(cell)
        self.value = value

    def apply(self, cell: Cell) -> Any:
        cell.value = self.value
        return None

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.cell.name}, {describe(self.value)})"


class AtomicSet(Store):
    """``atomic_set(v, i)``."""

    __slots__ = ()
    name = "atomic_set"


class Cmpxchg(CellOp):
    """``cmpxchg(p, old, new)``: returns the value found; stores if it was old."""

    __slots__ = ("new", "old")
    name = "cmpxchg"

    def __init__(self, cell: Cell, old: Any, new: Any) -> None:
        super().__init__(cell)
        self.old = old
        self.new = new

    def apply(self, cell: Cell) -> Any:
        found = cell.value
        if found is self.old or found == self.old:
            cell.value = self.new
        return found

    def describe(self, result: Any) -> str:
        ok = "ok" if (result is self.old or result == self.old) else "failed"
        return (
            f"cmpxchg({self.cell.name}, {describe(self.old)}, {describe(self.new)})"
            f" = {describe(result)} [{ok}]"
        )


class Xchg(Store):
    """``xchg(p, new)``: returns the old value."""

    __slots__ = ()
    name = "xchg"

    def apply(self, cell: Cell) -> Any:
        old = cell.value
        cell.value = self.value
        return old

    def describe(self, result: Any) -> str:
        return f"xchg({self.cell.name}, {describe(self.value)}) = {describe(result)}"


class AtomicAddReturn(CellOp):
    """``atomic_add_return(i, v)`` and the inc/dec family built on it."""

    __slots__ = ("delta",)
    name = "atomic_add_return"

    def __init__(self, cell: Cell, delta: int) -> None:
        super().__init__(cell)
        self.delta = delta

    def apply(self, cell: Cell) -> Any:
        cell.value = cell.value + self.delta
        return cell.value

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.cell.name}) -> {describe(result)}"


class AtomicInc(AtomicAddReturn):
    """``atomic_inc(v)``."""

    __slots__ = ()
    name = "atomic_inc"

    def __init__(self, cell: Cell) -> None:
        super().__init__(cell, 1)

    def apply(self, cell: Cell) -> Any:
        super().apply(cell)
        return None

    def describe(self, result: Any) -> str:
        return f"atomic_inc({self.cell.name}) -> {describe(self.cell.value)}"


class AtomicDec(AtomicInc):
    """``atomic_dec(v)``."""

    __slots__ = ()
    name = "atomic_dec"

    def __init__(self, cell: Cell) -> None:
        AtomicAddReturn.__init__(self, cell, -1)

    def describe(self, result: Any) -> str:
        return f"atomic_dec({self.cell.name}) -> {describe(self.cell.value)}"


class AtomicDecAndTest(AtomicAddReturn):
    """``atomic_dec_and_test(v)``: true when the count reached zero."""

    __slots__ = ()
    name = "atomic_dec_and_test"

    def __init__(self, cell: Cell) -> None:
        super().__init__(cell, -1)

    def apply(self, cell: Cell) -> Any:
        return super().apply(cell) == 0

    def describe(self, result: Any) -> str:
        return f"atomic_dec_and_test({self.cell.name}) -> {self.cell.value} ({describe(result)})"


class AtomicIncNotZero(CellOp):
    """``atomic_inc_not_zero(v)``: increments unless zero; true if it did."""

    __slots__ = ()
    name = "atomic_inc_not_zero"

    def apply(self, cell: Cell) -> Any:
        if cell.value == 0:
            return False
        cell.value += 1
        return True


# ------------------------------------------------------------------ heap


class Kmalloc(Op):
    """``kmalloc``/``kzalloc`` of a struct; may fail when the model allows it.

    Branch 0 is success, branch 1 (only with ``may_fail``) returns NULL.
    """

    __slots__ = ("init", "label", "may_fail", "struct")
    name = "kmalloc"

    def __init__(
        self, struct: type[Struct], init: dict[str, Any], may_fail: bool, label: str | None
    ) -> None:
        self.struct = struct
        self.init = init
        self.may_fail = may_fail
        self.label = label

    def branches(self, m: Machine, t: Thread) -> int:
        return 2 if self.may_fail else 1

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
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

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return () if self.obj is None else ((self.obj.oid, WRITE),)

    def target(self) -> SharedObject | None:
        return self.obj

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        obj = self.obj
        if obj is None:
            return None
        if not isinstance(obj, Struct) or not obj.heap:
            raise PropertyViolated(MEMORY_SAFETY, f"kfree of {describe(obj)}, not a heap object")
        if obj.freed:
            raise PropertyViolated(
                MEMORY_SAFETY, f"double free: {obj.name} was already freed at step {obj.freed_at}"
            )
        obj.freed = True
        obj.freed_at = m.step
        return None


# ----------------------------------------------------------------- lists


def _node(n: ListHead | object, entry: ListHead, what: str) -> ListHead:
    if n is LIST_POISON1 or n is LIST_POISON2:
        raise PropertyViolated(
            LIST_INTEGRITY,
            f"{what} of {entry.name}, which was already deleted (its pointers hold {describe(n)})",
        )
    if not isinstance(n, ListHead):
        raise PropertyViolated(
            LIST_INTEGRITY, f"{what} of {entry.name}, which was never initialised"
        )
    _check_alive(n, what)
    return n


class ListOp(Op):
    """A list primitive; one step, as it runs under the list's lock."""

    __slots__ = ("entry",)

    def __init__(self, entry: ListHead) -> None:
        if not isinstance(entry, ListHead):
            raise TypeError(f"{self.name} needs a ListHead, got {entry!r}")
        self.entry = entry

    def target(self) -> SharedObject:
        return self.entry

    def nodes(self) -> list[ListHead]:
        """The nodes whose pointers the step reads or writes."""
        return [self.entry]

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        fp: list[tuple[int, int]] = []
        for node in self.nodes():
            fp.extend(_access(node, WRITE))
        return tuple(fp)

    def _unlink(self, what: str) -> None:
        entry = self.entry
        _check_alive(entry, what)
        prev = _node(entry.prev, entry, what)
        nxt = _node(entry.next, entry, what)
        if prev.next is not entry or nxt.prev is not entry:
            raise PropertyViolated(
                LIST_INTEGRITY, f"{what} of {entry.name}: list corrupted around it"
            )
        nxt.prev = prev
        prev.next = nxt


class _DelOp(ListOp):
    __slots__ = ()

    def nodes(self) -> list[ListHead]:
        e = self.entry
        return [n for n in (e, e.prev, e.next) if isinstance(n, ListHead)]


class ListDel(_DelOp):
    """``list_del(entry)``: unlink and poison both pointers."""

    __slots__ = ()
    name = "list_del"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        self._unlink(self.name)
        self.entry.next = LIST_POISON1
        self.entry.prev = LIST_POISON2


class ListDelRcu(_DelOp):
    """``list_del_rcu(entry)``: unlink, poison ``prev``, keep ``next`` for readers."""

    __slots__ = ()
    name = "list_del_rcu"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        self._unlink(self.name)
        self.entry.prev = LIST_POISON2


class ListDelInit(_DelOp):
    """``list_del_init(entry)``: unlink and leave the entry self-linked (empty)."""

    __slots__ = ()
    name = "list_del_init"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        self._unlink(self.name)
        self.entry.next = self.entry
        self.entry.prev = self.entry


class ListAdd(ListOp):
    """``list_add(new, head)`` (also ``list_add_rcu``): insert after head."""

    __slots__ = ("head",)
    name = "list_add"

    def __init__(self, new: ListHead, head: ListHead) -> None:
        super().__init__(new)
        self.head = head

    def nodes(self) -> list[ListHead]:
        nxt = self.head.next
        return [self.entry, self.head] + ([nxt] if isinstance(nxt, ListHead) else [])

    def _link(self, prev: ListHead, nxt: ListHead) -> None:
        new = self.entry
        _check_alive(new, self.name)
        if new.is_linked():
            raise PropertyViolated(
                LIST_INTEGRITY, f"{self.name} of {new.name}, which is already on a list"
            )
        nxt.prev = new
        new.next = nxt
        new.prev = prev
        prev.next = new

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        head = self.head
        self._link(head, _node(head.next, head, self.name))

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.entry.name}, {self.head.name})"


class ListAddRcu(ListAdd):
    """``list_add_rcu(new, head)``."""

    __slots__ = ()
    name = "list_add_rcu"


class ListAddTail(ListAdd):
    """``list_add_tail(new, head)``: insert before head (at the tail)."""

    __slots__ = ()
    name = "list_add_tail"

    def nodes(self) -> list[ListHead]:
        prev = self.head.prev
        return [self.entry, self.head] + ([prev] if isinstance(prev, ListHead) else [])

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        head = self.head
        self._link(_node(head.prev, head, self.name), head)


class ListMoveTail(ListAdd):
    """``list_move_tail(entry, head)``: unlink and add at the tail of head."""

    __slots__ = ()
    name = "list_move_tail"

    def nodes(self) -> list[ListHead]:
        e, h = self.entry, self.head
        return [n for n in (e, e.prev, e.next, h, h.prev) if isinstance(n, ListHead)]

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        self._unlink(self.name)
        self.entry.next = self.entry.prev = self.entry
        head = self.head
        self._link(_node(head.prev, head, self.name), head)


class ListEmpty(ListOp):
    """``list_empty(head)``: true when head points to itself."""

    __slots__ = ()
    name = "list_empty"
    writes = False

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return _access(self.entry, READ)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        _check_alive(self.entry, self.name)
        return self.entry.next is self.entry


class ListNext(ListOp):
    """Read ``node->next`` while walking a list; returns the next node."""

    __slots__ = ()
    name = "list_next"
    writes = False

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return _access(self.entry, READ)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        _check_alive(self.entry, self.name)
        nxt = self.entry.next
        if not isinstance(nxt, ListHead):
            raise PropertyViolated(
                LIST_INTEGRITY, f"list walk reached {self.entry.name}->next = {describe(nxt)}"
            )
        return nxt


# ----------------------------------------------------------------- locks


def _exec_write(t: Thread) -> Footprint:
    if t.cpu is not None and not t.irq:
        return ((t.cpu.exec.oid, WRITE),)
    return ()


class LockOp(Op):
    """Taking or releasing a spinlock or mutex."""

    __slots__ = ("lock",)

    def __init__(self, lock: Lock) -> None:
        if not isinstance(lock, Lock):
            raise TypeError(f"{self.name} needs a lock, got {lock!r}")
        self.lock = lock

    def target(self) -> SharedObject:
        return self.lock


class Acquire(LockOp):
    """``spin_lock``/``mutex_lock``: blocks while another thread holds it."""

    __slots__ = ()
    name = "spin_lock"

    def enabled(self, m: Machine, t: Thread) -> bool:
        return self.lock.holder is None or self.lock.holder is t

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return _access(self.lock, ACQUIRE) + _exec_write(t)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        _check_alive(self.lock, self.name)
        lock = self.lock
        if lock.holder is t:
            raise PropertyViolated(
                "deadlock", f"{t.name} takes {lock.name}, which it already holds (AA deadlock)"
            )
        if isinstance(lock, Mutex):
            if t.irqs_off or t.in_irq:
                raise PropertyViolated(
                    LOCKING, f"mutex_lock({lock.name}) with IRQs off: sleeping in atomic context"
                )
        else:
            t.preempt_count += 1
        lock.holder = t
        t.held.append(lock)


class MutexLock(Acquire):
    """``mutex_lock(m)``."""

    __slots__ = ()
    name = "mutex_lock"


class Release(LockOp):
    """``spin_unlock``/``mutex_unlock``."""

    __slots__ = ()
    name = "spin_unlock"

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return _access(self.lock, RELEASE) + _exec_write(t)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        _check_alive(self.lock, self.name)
        lock = self.lock
        if lock.holder is not t:
            holder = "nobody" if lock.holder is None else lock.holder.name
            raise PropertyViolated(LOCKING, f"{t.name} releases {lock.name}, held by {holder}")
        lock.holder = None
        t.held.remove(lock)
        if not isinstance(lock, Mutex):
            t.preempt_count -= 1


class MutexUnlock(Release):
    """``mutex_unlock(m)``."""

    __slots__ = ()
    name = "mutex_unlock"


# ------------------------------------------------------------ cpu state


class CpuStateOp(Op):
    """A change of the running thread's IRQ or preemption state."""

    __slots__ = ()

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return _exec_write(t)


class LocalIrqDisable(CpuStateOp):
    """``local_irq_disable()``."""

    __slots__ = ()
    name = "local_irq_disable"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        t.irqs_off = True


class LocalIrqEnable(CpuStateOp):
    """``local_irq_enable()``."""

    __slots__ = ()
    name = "local_irq_enable"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        if not t.in_irq:
            t.irqs_off = False


class LocalIrqSave(CpuStateOp):
    """``local_irq_save(flags)``: returns the previous state."""

    __slots__ = ()
    name = "local_irq_save"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        flags = t.irqs_off
        t.irqs_off = True
        return flags

    def describe(self, result: Any) -> str:
        return "local_irq_save()"


class LocalIrqRestore(CpuStateOp):
    """``local_irq_restore(flags)``."""

    __slots__ = ("flags",)
    name = "local_irq_restore"

    def __init__(self, flags: bool) -> None:
        self.flags = flags

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        if not t.in_irq:
            t.irqs_off = bool(self.flags)


class PreemptDisable(CpuStateOp):
    """``preempt_disable()`` (also ``get_cpu()``)."""

    __slots__ = ()
    name = "preempt_disable"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        t.preempt_count += 1


class PreemptEnable(CpuStateOp):
    """``preempt_enable()`` (also ``put_cpu()``)."""

    __slots__ = ()
    name = "preempt_enable"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        t.preempt_count -= 1


class IrqEnter(Op):
    """An interrupt arrives: the thread occupies its CPU, IRQs off.

    Enabled only while the CPU's running task has IRQs on (and, for a
    preempting interrupt, preemption on).
    """

    __slots__ = ("preempt",)
    name = "irq_enter"

    def __init__(self, preempt: bool = False) -> None:
        self.preempt = preempt

    def _cpu(self, t: Thread) -> CPU:
        if t.cpu is None or not t.irq:
            raise TypeError(f"{t.name}: irq_enter is for interrupt threads of a CPU")
        return t.cpu

    def enabled(self, m: Machine, t: Thread) -> bool:
        return not t.in_irq and m.accepts_interrupt(self._cpu(t), self.preempt)

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return ((self._cpu(t).exec.oid, WRITE),)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        cpu = self._cpu(t)
        cpu.handler = t
        t.in_irq = True
        t.irqs_off = True

    def describe(self, result: Any) -> str:
        return "irq_enter()" if not self.preempt else "irq_enter(preempt)"


class IrqExit(Op):
    """The interrupt returns: the CPU goes back to its task."""

    __slots__ = ()
    name = "irq_exit"

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return () if t.cpu is None else ((t.cpu.exec.oid, WRITE),)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        if not t.in_irq or t.cpu is None:
            raise TypeError(f"{t.name}: irq_exit without irq_enter")
        if t.held:
            raise PropertyViolated(
                LOCKING, f"{t.name} returns from interrupt holding {t.held[0].name}"
            )
        t.cpu.handler = None
        t.in_irq = False
        t.irqs_off = False


class ContextSwitch(Op):
    """``rq->curr = next``: the CPU now runs another task (or idle, None)."""

    __slots__ = ("cpu", "next")
    name = "context_switch"

    def __init__(self, cpu: CPU, next_task: Any) -> None:
        self.cpu = cpu
        self.next = next_task

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return ((self.cpu.curr.oid, WRITE), (self.cpu.exec.oid, WRITE))

    def target(self) -> SharedObject:
        return self.cpu.curr

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        self.cpu.curr.value = self.next

    def describe(self, result: Any) -> str:
        return f"context_switch({self.cpu.name} -> {describe(self.next)})"


# --------------------------------------------------------------- threads


class Spawn(Op):
    """Start a new thread (an IPI handler, an RCU callback, a forked task)."""

    __slots__ = ("args", "cpu", "func", "irq", "label", "task")
    name = "spawn"

    def __init__(
        self,
        label: str,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        cpu: CPU | None = None,
        task: Any = None,
        irq: bool = False,
    ) -> None:
        self.label = label
        self.func = func
        self.args = args
        self.cpu = cpu
        self.task = task
        self.irq = irq

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        return m.spawn(
            self.label,
            self.func,
            *self.args,
            cpu=self.cpu,
            task=self.task,
            irq=self.irq,
            parent=t.tid,
        )

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.label})"

    def signature(self) -> tuple[str, int]:
        return (f"spawn:{self.label}", -1)


class Join(Op):
    """Wait until another thread has finished (an IPI's ``wait=1``)."""

    __slots__ = ("thread",)
    name = "wait_for"

    def __init__(self, thread: Thread) -> None:
        self.thread = thread

    def enabled(self, m: Machine, t: Thread) -> bool:
        return self.thread.finished

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return ((self.thread.done.oid, WAIT),)

    def target(self) -> SharedObject:
        return self.thread.done

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        return self.thread.result

    def describe(self, result: Any) -> str:
        return f"wait_for({self.thread.name})"


class RcuReadLock(Op):
    """``rcu_read_lock()``: holds off grace periods."""

    __slots__ = ()
    name = "rcu_read_lock"

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        return ((m.rcu.oid, WRITE),)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        t.rcu_depth += 1


class RcuReadUnlock(RcuReadLock):
    """``rcu_read_unlock()``."""

    __slots__ = ()
    name = "rcu_read_unlock"

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        t.rcu_depth -= 1


class RcuGracePeriod(RcuReadLock):
    """The end of a grace period: no thread is inside a read-side section."""

    __slots__ = ()
    name = "synchronize_rcu"

    def enabled(self, m: Machine, t: Thread) -> bool:
        return all(th.rcu_depth == 0 for th in m.threads)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        return None


# -------------------------------------------------------------- choices


class Choose(Op):
    """A nondeterministic choice among options, explored like a schedule."""

    __slots__ = ("label", "options")
    name = "choose"

    def __init__(self, options: tuple[Any, ...], label: str) -> None:
        if not options:
            raise ValueError("choose needs at least one option")
        self.options = options
        self.label = label

    def branches(self, m: Machine, t: Thread) -> int:
        return len(self.options)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        return self.options[branch]

    def describe(self, result: Any) -> str:
        return f"choose({self.label}) = {describe(result)}"

    def signature(self) -> tuple[str, int]:
        return (f"choose:{self.label}", len(self.options))


# ----------------------------------------------------------- observation


class Observe(Op):
    """An assertion point: one step that reads ``objects`` and changes nothing.

    A model that judges shared state from inside a thread (did the counter
    start by the time the syscall returned?) must do it in a step, so that
    partial-order reduction sees what the judgement depends on; the thread
    looks at the values right after this step, as if it had read them in it.
    Freed objects may be named: observing is not an access by the kernel.
    """

    __slots__ = ("objects", "label")
    name = "observe"

    def __init__(self, objects: tuple[SharedObject, ...], label: str) -> None:
        for obj in objects:
            if not isinstance(obj, SharedObject):
                raise TypeError(f"observe needs shared objects, got {obj!r}")
        self.objects = objects
        self.label = label

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        fp: list[tuple[int, int]] = []
        for obj in self.objects:
            fp.extend(_access(obj, READ))
        return tuple(fp)

    def describe(self, result: Any) -> str:
        return f"observe({self.label})"

    def signature(self) -> tuple[str, int]:
        return (f"observe:{self.label}", len(self.objects))


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

    def __init__(self, judge: Callable[[], Any], label: str) -> None:
        self.judge = judge
        self.label = label

    def footprint(self, m: Machine, t: Thread) -> Footprint:
        from ctxcheck.observe import PropertyReads, reads_into

        with reads_into(PropertyReads()) as reads:
            self.judge()
        fp: list[tuple[int, int]] = []
        for oid in sorted(reads.masks):
            fp.extend(_access(m.by_oid[oid], READ))
        return tuple(fp)

    def run(self, m: Machine, t: Thread, branch: int) -> Any:
        return self.judge()

    def describe(self, result: Any) -> str:
        return f"observe({self.label})"

    def signature(self) -> tuple[str, int]:
        return (f"observe:{self.label}", 0)
