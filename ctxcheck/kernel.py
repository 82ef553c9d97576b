"""The kernel API a model is written against: ``k.load(...)``, ``k.kfree(...)``.

Every thread body receives its own :class:`Kernel` handle ``k``. Methods that
return an operation are single steps (``x = yield k.load(p)``); methods that
are generators are kernel helpers made of several steps and are called with
``yield from`` (``flags = yield from k.spin_lock_irqsave(lock)``), exactly as
the C calls them. The names are the kernel's, so a model reads beside the C.

The handle also answers the questions a kernel function asks without touching
shared memory: ``k.cpu`` (``smp_processor_id()``) and ``k.current``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

from ctxcheck.errors import PropertyViolated
from ctxcheck.events import relpath
from ctxcheck.machine import Thread
from ctxcheck.ordering import MemoryOrdering
from ctxcheck.primitives.base import Op, SharedObject
from ctxcheck.primitives.choice import Choose
from ctxcheck.primitives.cpu import (
    CPU,
    ContextSwitch,
    IrqEnter,
    IrqExit,
    LocalIrqDisable,
    LocalIrqEnable,
    LocalIrqRestore,
    LocalIrqSave,
    PreemptDisable,
    PreemptEnable,
)
from ctxcheck.primitives.heap import Kfree, Kmalloc, Struct, field
from ctxcheck.primitives.lists import (
    ListAdd,
    ListAddRcu,
    ListAddTail,
    ListDel,
    ListDelInit,
    ListDelRcu,
    ListEmpty,
    ListHead,
    ListMoveTail,
    ListNext,
)
from ctxcheck.primitives.locks import Acquire, Lock, Mutex, MutexLock, MutexUnlock, Release
from ctxcheck.primitives.memory import (
    AtomicAdd,
    AtomicAddReturn,
    AtomicDec,
    AtomicDecAndTest,
    AtomicInc,
    AtomicIncNotZero,
    AtomicRead,
    AtomicSet,
    AtomicSub,
    Cell,
    Cmpxchg,
    Load,
    Store,
    Xchg,
)
from ctxcheck.primitives.observation import Judge, Observe
from ctxcheck.primitives.rcu import RcuGracePeriod, RcuReadLock, RcuReadUnlock
from ctxcheck.primitives.threads import Join, Spawn
from ctxcheck.primitives.wait import CondLoad, CondLoadAcquire, SpinUntil

S = TypeVar("S", bound=Struct)
Steps = Generator[Any, Any, Any]


class TaskStruct(Struct):
    """The part of ``struct task_struct`` the engine knows: where it runs.

    Models subclass it to add their own fields. ``cpu`` (``task_cpu(p)``) is
    fixed for the run: the models do not migrate tasks.
    """

    _label = "task"
    #: the task has started exiting (``PF_EXITING``)
    exiting: Cell = field(False)


class Kernel(MemoryOrdering):
    """One thread's view of the kernel: operations and helpers (the memory-ordering
    ones in :class:`~ctxcheck.ordering.MemoryOrdering`)."""

    __slots__ = ("_thread",)

    def __init__(self, thread: Thread) -> None:
        self._thread = thread

    # -- who and where ---------------------------------------------------
    @property
    def cpu(self) -> CPU | None:
        """The CPU this thread runs on (``smp_processor_id()``), if tracked."""
        return self._thread.cpu

    @property
    def current(self) -> Any:
        """``current``: the task this code runs as.

        In an interrupt handler this is the interrupted task, which cannot
        change while the handler occupies the CPU, so reading it is no step.
        """
        thread = self._thread
        if thread.irq and thread.cpu is not None:
            return thread.cpu.curr.value
        return thread.task

    # -- memory ------------------------------------------------------------
    def load(self, cell: Cell) -> Op:
        """Read a word: a plain load (``x`` in C; ``READ_ONCE`` is :meth:`READ_ONCE`)."""
        return Load(cell)

    def store(self, cell: Cell, value: Any) -> Op:
        """Write a word: a plain store (``x = v``; ``WRITE_ONCE`` is :meth:`WRITE_ONCE`)."""
        return Store(cell, value)

    def cmpxchg(self, cell: Cell, old: Any, new: Any) -> Op:
        """``cmpxchg``: returns the value found, stores ``new`` if it was ``old``."""
        return Cmpxchg(cell, old, new)

    def xchg(self, cell: Cell, new: Any) -> Op:
        """``xchg``: stores ``new`` and returns the old value."""
        return Xchg(cell, new)

    def atomic_read(self, cell: Cell) -> Op:
        """``atomic_read(v)``."""
        return AtomicRead(cell)

    def atomic_set(self, cell: Cell, value: int) -> Op:
        """``atomic_set(v, i)``."""
        return AtomicSet(cell, value)

    def atomic_inc(self, cell: Cell) -> Op:
        """``atomic_inc(v)``: commutes with other such adds (the value is not returned)."""
        return AtomicInc(cell)

    def atomic_dec(self, cell: Cell) -> Op:
        """``atomic_dec(v)``: commutes with other such adds."""
        return AtomicDec(cell)

    def atomic_add(self, cell: Cell, delta: int) -> Op:
        """``atomic_add(i, v)`` (word first, as in :meth:`atomic_add_return`): commutes
        with other such adds."""
        return AtomicAdd(cell, delta)

    def atomic_sub(self, cell: Cell, delta: int) -> Op:
        """``atomic_sub(i, v)``: commutes with other such adds."""
        return AtomicSub(cell, delta)

    def atomic_cmpxchg(self, cell: Cell, old: Any, new: Any) -> Op:
        """``atomic_cmpxchg(v, old, new)``: as :meth:`cmpxchg`."""
        return Cmpxchg(cell, old, new)

    def atomic_xchg(self, cell: Cell, new: Any) -> Op:
        """``atomic_xchg(v, new)``: as :meth:`xchg`."""
        return Xchg(cell, new)

    def atomic_add_return(self, cell: Cell, delta: int) -> Op:
        """``atomic_add_return(i, v)``."""
        return AtomicAddReturn(cell, delta)

    def atomic_dec_and_test(self, cell: Cell) -> Op:
        """``atomic_dec_and_test(v)``: true when it reached zero."""
        return AtomicDecAndTest(cell)

    def atomic_inc_not_zero(self, cell: Cell) -> Op:
        """``atomic_inc_not_zero(v)``."""
        return AtomicIncNotZero(cell)

    # the atomic_long_t forms are the same operations on a long
    atomic_long_read = atomic_read
    atomic_long_set = atomic_set
    atomic_long_inc = atomic_inc
    atomic_long_dec = atomic_dec
    atomic_long_add = atomic_add
    atomic_long_sub = atomic_sub
    atomic_long_add_return = atomic_add_return
    atomic_long_dec_and_test = atomic_dec_and_test
    atomic_long_inc_not_zero = atomic_inc_not_zero
    atomic_long_cmpxchg = atomic_cmpxchg
    atomic_long_xchg = atomic_xchg

    # -- heap --------------------------------------------------------------
    def kmalloc(
        self, struct: type[S], *, may_fail: bool = False, name: str | None = None, **init: Any
    ) -> Op:
        """Allocate a struct; with ``may_fail`` the NULL outcome is explored too."""
        return Kmalloc(struct, init, may_fail, name)

    kzalloc = kmalloc

    def kfree(self, obj: Struct | None) -> Op:
        """Free a heap struct (NULL is a no-op)."""
        return Kfree(obj)

    # -- lists -------------------------------------------------------------
    def list_add(self, new: ListHead, head: ListHead) -> Op:
        """``list_add(new, head)``."""
        return ListAdd(new, head)

    def list_add_rcu(self, new: ListHead, head: ListHead) -> Op:
        """``list_add_rcu(new, head)``."""
        return ListAddRcu(new, head)

    def list_add_tail(self, new: ListHead, head: ListHead) -> Op:
        """``list_add_tail(new, head)``."""
        return ListAddTail(new, head)

    def list_del(self, entry: ListHead) -> Op:
        """``list_del(entry)``."""
        return ListDel(entry)

    def list_del_rcu(self, entry: ListHead) -> Op:
        """``list_del_rcu(entry)``."""
        return ListDelRcu(entry)

    def list_del_init(self, entry: ListHead) -> Op:
        """``list_del_init(entry)``."""
        return ListDelInit(entry)

    def list_move_tail(self, entry: ListHead, head: ListHead) -> Op:
        """``list_move_tail(entry, head)``."""
        return ListMoveTail(entry, head)

    def list_empty(self, head: ListHead) -> Op:
        """``list_empty(head)``."""
        return ListEmpty(head)

    def list_next(self, node: ListHead) -> Op:
        """Read ``node->next`` (one step of a list walk)."""
        return ListNext(node)

    def list_entries(self, head: ListHead) -> Steps:
        """Walk ``head`` like ``list_for_each_entry_safe``; returns the nodes.

        Each ``->next`` read is a step; the walk takes the next pointer before
        the caller looks at the entry, so removing the current entry is safe,
        as with the kernel macro. Use it when the model does not act between
        the reads; otherwise walk with :meth:`list_next` in the model.
        """
        nodes: list[ListHead] = []
        node = yield self.list_next(head)
        while node is not head:
            nodes.append(node)
            node = yield self.list_next(node)
        return nodes

    # -- locks -------------------------------------------------------------
    def spin_lock(self, lock: Lock) -> Op:
        """``spin_lock(lock)``: disables preemption, then takes the lock."""
        return Acquire(lock)

    def spin_unlock(self, lock: Lock) -> Op:
        """``spin_unlock(lock)``."""
        return Release(lock)

    def spin_lock_irq(self, lock: Lock) -> Steps:
        """``spin_lock_irq(lock)``: IRQs off, then the lock."""
        yield LocalIrqDisable()
        yield Acquire(lock)

    def spin_unlock_irq(self, lock: Lock) -> Steps:
        """``spin_unlock_irq(lock)``."""
        yield Release(lock)
        yield LocalIrqEnable()

    def spin_lock_irqsave(self, lock: Lock) -> Steps:
        """``spin_lock_irqsave(lock, flags)``: returns ``flags``."""
        flags = yield LocalIrqSave()
        yield Acquire(lock)
        return flags

    def spin_unlock_irqrestore(self, lock: Lock, flags: bool) -> Steps:
        """``spin_unlock_irqrestore(lock, flags)``."""
        yield Release(lock)
        yield LocalIrqRestore(flags)

    def mutex_lock(self, lock: Mutex) -> Op:
        """``mutex_lock(m)``: sleeps while another thread holds it."""
        return MutexLock(lock)

    def mutex_unlock(self, lock: Mutex) -> Op:
        """``mutex_unlock(m)``."""
        return MutexUnlock(lock)

    # -- IRQs, preemption, scheduling ------------------------------------
    def local_irq_disable(self) -> Op:
        """``local_irq_disable()``."""
        return LocalIrqDisable()

    def local_irq_enable(self) -> Op:
        """``local_irq_enable()``."""
        return LocalIrqEnable()

    def local_irq_save(self) -> Op:
        """``local_irq_save(flags)``: returns ``flags``."""
        return LocalIrqSave()

    def local_irq_restore(self, flags: bool) -> Op:
        """``local_irq_restore(flags)``."""
        return LocalIrqRestore(flags)

    def preempt_disable(self) -> Op:
        """``preempt_disable()``."""
        return PreemptDisable()

    def preempt_enable(self) -> Op:
        """``preempt_enable()``."""
        return PreemptEnable()

    def irq_enter(self, preempt: bool = False) -> Op:
        """An interrupt thread enters its CPU (waits for IRQs on there)."""
        return IrqEnter(preempt)

    def irq_exit(self) -> Op:
        """An interrupt thread leaves its CPU."""
        return IrqExit()

    def context_switch(self, cpu: CPU, next_task: Any) -> Op:
        """``rq->curr = next`` on ``cpu``."""
        return ContextSwitch(cpu, next_task)

    def task_curr(self, task: TaskStruct) -> Steps:
        """``task_curr(p)``: is ``p`` running on its CPU right now? (one read)"""
        cpu = task_cpu(task)
        if cpu is None:
            return False
        curr = yield Load(cpu.curr)
        return curr is task

    # -- cross-CPU calls ---------------------------------------------------
    def smp_call_function_single(self, cpu: CPU, func: Callable[..., Steps], *args: Any) -> Steps:
        """Run ``func(k, *args)`` on ``cpu`` and wait for it (``wait=1``).

        On the caller's own CPU it runs in place with IRQs off; elsewhere an
        IPI handler thread is spawned that runs once ``cpu`` has IRQs on.
        """
        if cpu is self.cpu:
            flags = yield LocalIrqSave()
            yield from func(self, *args)
            yield LocalIrqRestore(flags)
            return None
        name = f"ipi:{getattr(func, '__name__', 'func')}@{cpu.name}"
        handler = yield Spawn(name, _ipi_body, (func, args), cpu=cpu, irq=True)
        yield Join(handler)
        return None

    def task_oncpu_function_call(
        self, p: TaskStruct, func: Callable[..., Steps], *args: Any
    ) -> Steps:
        """``task_oncpu_function_call(p, func, info)`` from kernel/sched.c.

        With preemption off, if ``p`` is current on its CPU, run ``func`` there
        with ``smp_call_function_single``; otherwise do nothing. The check is a
        snapshot: ``p`` may be switched out before the IPI lands.
        """
        yield PreemptDisable()
        cpu = task_cpu(p)
        running = yield from self.task_curr(p)
        if running and cpu is not None:
            yield from self.smp_call_function_single(cpu, func, *args)
        yield PreemptEnable()

    # -- RCU ---------------------------------------------------------------
    def rcu_read_lock(self) -> Op:
        """``rcu_read_lock()``."""
        return RcuReadLock()

    def rcu_read_unlock(self) -> Op:
        """``rcu_read_unlock()``."""
        return RcuReadUnlock()

    def synchronize_rcu(self) -> Op:
        """``synchronize_rcu()``: wait until no thread is in a read-side section."""
        return RcuGracePeriod()

    def call_rcu(self, func: Callable[..., Steps], *args: Any) -> Op:
        """``call_rcu(head, func)``: ``func(k, *args)`` runs after a grace period.

        The callback is its own thread, so "when" it runs is explored like
        any other schedule choice.
        """
        name = f"rcu:{getattr(func, '__name__', 'callback')}"
        return Spawn(name, _rcu_body, (func, args))

    # -- threads and choices -----------------------------------------------
    def spawn(
        self,
        name: str,
        func: Callable[..., Steps],
        *args: Any,
        cpu: CPU | None = None,
        task: Any = None,
    ) -> Op:
        """Start a new task thread; returns a handle for :meth:`join`."""
        return Spawn(name, func, args, cpu=cpu, task=task)

    def join(self, thread: Thread) -> Op:
        """Wait for a thread to finish; returns its result."""
        return Join(thread)

    def choose(self, *options: Any, label: str = "choice") -> Op:
        """A nondeterministic choice; every option is explored."""
        return Choose(tuple(options), label)

    def observe(self, *objects: SharedObject, label: str = "observe") -> Op:
        """One step reading ``objects`` (an assertion point); see :class:`Observe`."""
        return Observe(objects, label)

    def judge(self, judge: Callable[[], Any], label: str = "observe") -> Op:
        """One step that returns ``judge()``, conflicting only with what it read.

        See :class:`Judge`: the footprint is recorded, not declared.
        """
        return Judge(judge, label)

    # -- spin-waits ----------------------------------------------------------
    def spin_until(
        self,
        cond: Callable[[], Any],
        reads: Sequence[SharedObject] | None = None,
        label: str | None = None,
    ) -> Op:
        """``while (!cond) cpu_relax();``: one step, not enabled until ``cond()`` holds.

        Returns what ``cond()`` returned. The condition reads shared state
        through the objects (``cell.value``); what it reads is recorded as the
        step's footprint. ``reads=`` names the objects it may read (a read of
        another is a model error). See :mod:`ctxcheck.primitives.wait`.
        """
        return SpinUntil(cond, reads, label)

    def smp_cond_load_relaxed(self, cell: Cell, cond: Callable[[Any], Any]) -> Op:
        """``smp_cond_load_relaxed(ptr, cond_expr)``: wait until ``cond(VAL)``, return VAL."""
        return CondLoad(cell, cond)

    def smp_cond_load_acquire(self, cell: Cell, cond: Callable[[Any], Any]) -> Op:
        """``smp_cond_load_acquire(ptr, cond_expr)``: as the relaxed one (steps are SC)."""
        return CondLoadAcquire(cell, cond)

    # -- assertions ----------------------------------------------------------
    def BUG_ON(self, condition: Any, message: str = "BUG_ON") -> None:  # noqa: N802
        """``BUG_ON(cond)``: a violation of property ``bug_on`` when true."""
        if condition:
            raise PropertyViolated("bug_on", message)

    def WARN_ON(self, condition: Any, message: str = "WARN_ON") -> bool:  # noqa: N802
        """``WARN_ON(cond)``: a violation of property ``warn_on`` when true."""
        if condition:
            raise PropertyViolated("warn_on", message)
        return False


def task_cpu(task: Any) -> CPU | None:
    """``task_cpu(p)``: the CPU a task runs on (fixed in these models)."""
    return getattr(task, "cpu", None)


def _ipi_body(k: Kernel, func: Callable[..., Steps], args: tuple[Any, ...]) -> Steps:
    yield IrqEnter()
    yield from func(k, *args)
    yield IrqExit()


def _rcu_body(k: Kernel, func: Callable[..., Steps], args: tuple[Any, ...]) -> Steps:
    yield RcuGracePeriod()
    yield from func(k, *args)


# -- a step built but never yielded ------------------------------------------
# ``k.store(x, 1)`` without ``yield`` builds a step and drops it: the thread
# goes on as if the store had happened, and a check of the code *as written*
# may wrongly hold. Every method of Kernel that returns a step or a helper
# notes what it built on its thread; the runtime asks :func:`unyielded` each
# time the thread suspends.


def _noting(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def build(self: Kernel, *args: Any, **kwargs: Any) -> Any:
        made = method(self, *args, **kwargs)
        caller = sys._getframe(1)
        self._thread.built.append((made, caller.f_code.co_filename, caller.f_lineno, name))
        return made

    return build


def _note_what_is_built() -> None:
    for name in dir(Kernel):  # with what it inherits (ctxcheck.ordering)
        value = getattr(Kernel, name)
        returns = getattr(value, "__annotations__", {}).get("return")
        if not name.startswith("__") and callable(value) and returns in ("Op", "Steps"):
            setattr(Kernel, name, _noting(name, value))


_note_what_is_built()


def unyielded(built: list[tuple[Any, str, int, str]], yielded: Any) -> str | None:
    """What a thread built since it last suspended and dropped, or None.

    ``yielded`` is what it suspended with (None when it finished). A step must
    be that value; a helper (a generator) must have been started with
    ``yield from``. Clears ``built``.
    """
    if len(built) == 1 and built[0][0] is yielded:
        built.clear()
        return None
    dropped = [b for b in built if b[0] is not yielded and not _started(b[0])]
    built.clear()
    if not dropped:
        return None
    made, filename, lineno, name = dropped[0]
    how = "yield from" if inspect.isgenerator(made) else "yield"
    return (
        f"k.{name}(...) at {relpath(filename)}:{lineno} was built but never run: "
        f"write `{how} k.{name}(...)` (without `{how}` the thread goes on as if it "
        f"had not been called)"
    )


def _started(made: Any) -> bool:
    return inspect.isgenerator(made) and inspect.getgeneratorstate(made) != inspect.GEN_CREATED
