"""The simulated machine: CPUs, threads and every shared object of one run.

A :class:`Machine` is built afresh for every execution by the model's setup
function and then driven by the runtime (:mod:`ctxcheck.runtime`). It knows
the execution rules that do not belong to any one primitive:

* a *task thread* bound to a CPU runs only while its task is that CPU's
  ``curr`` and no interrupt handler occupies the CPU;
* an *interrupt thread* (an IPI handler, a timer tick, the scheduler) enters
  a CPU only while the task running there has IRQs on (and, for preemption,
  preemption on), and then owns the CPU until it leaves;
* an unbound thread (``cpu=None``) stands for code on a CPU the model does not
  track, and may always run.

The primitives (:mod:`ctxcheck.primitives`) see the machine through
:class:`~ctxcheck.primitives.base.StepMachine`; the explorers through the
runtime. Object ids come from the search's :class:`ObjectIds`, so that they
are the same in every execution of one search and independent of whatever
else ran before in the process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

from ctxcheck.observe import PropertyReads
from ctxcheck.primitives.base import Op, SharedObject
from ctxcheck.primitives.cpu import CPU
from ctxcheck.primitives.heap import Struct
from ctxcheck.primitives.locks import Lock

S = TypeVar("S", bound=Struct)

#: the instance number in an object's name (``ctx#2.lock``): not part of its kind
_KIND = re.compile(r"#\d+")
#: an object name's kind, as _KIND makes it (a cache: names recur in every run)
_KINDS: dict[str, str] = {}

#: A thread body: a generator of operations, started with its kernel handle.
ThreadFunc = Callable[..., Generator[Any, Any, Any]]


class ObjectIds:
    """Ids of shared objects, the same in every execution of one search.

    An object is known by who made it, not by when: the thread whose step
    created it (or the setup), how many things that thread had created
    before, and the object's kind. So an object keeps its id when
    independent steps of other threads are reordered, and what one
    execution learnt about an id (which invariants read it, see
    :mod:`ctxcheck.observe`) applies to the same object in the next. One
    table belongs to one search: ids never depend on other checks run in
    the same process.
    """

    __slots__ = ("_ids", "_keys")

    def __init__(self) -> None:
        self._ids: dict[tuple[Any, ...], int] = {}
        self._keys: list[tuple[Any, ...]] = []

    def id_of(self, key: tuple[Any, ...]) -> int:
        """The id of the object known by ``key`` (a new one the first time)."""
        oid = self._ids.get(key)
        if oid is None:
            oid = self._ids[key] = len(self._ids)
            self._keys.append(key)
        return oid

    def key_of(self, oid: int) -> tuple[Any, ...]:
        """What an id stands for, the same in every process: (creator, index, kind)."""
        return self._keys[oid]


class Thread:
    """One thread of control: a task's kernel path or an interrupt handler."""

    __slots__ = (
        "tid", "name", "gen", "cpu", "task", "irq", "pending", "finished",
        "result", "_irqs_off", "_preempt_count", "rcu_depth", "in_irq", "held",
        "done", "parent", "key", "built",
    )  # fmt: skip

    def __init__(
        self,
        tid: int,
        name: str,
        cpu: CPU | None,
        task: Any,
        irq: bool,
        done: SharedObject,
        parent: int | None,
    ) -> None:
        self.tid = tid
        self.name = name
        self.gen: Generator[Any, Any, Any] | None = None
        self.cpu = cpu
        self.task = task
        self.irq = irq
        self.pending: Op | None = None
        self.finished = False
        self.result: Any = None
        self._irqs_off = False
        self._preempt_count = 0
        self.rcu_depth = 0
        self.in_irq = False
        self.held: list[Lock] = []
        #: released when the thread finishes; what a waiter on it synchronises with
        self.done = done
        self.parent = parent
        #: how the thread is named across executions (see ObjectIds)
        self.key: tuple[Any, ...] = ()
        #: what ``k.<operation>(...)`` built since the thread last yielded, with
        #: where it was built: each must be yielded (see :func:`ctxcheck.kernel.unyielded`)
        self.built: list[tuple[Any, str, int, str]] = []

    def _noted(self) -> None:
        # a task thread's IRQ and preemption state is its CPU's ``exec`` object
        if self.cpu is not None:
            self.cpu.exec.noted()

    @property
    def irqs_off(self) -> bool:
        """IRQs disabled by this thread (a read an invariant makes is noted)."""
        self._noted()
        return self._irqs_off

    @irqs_off.setter
    def irqs_off(self, value: bool) -> None:
        self._irqs_off = value

    @property
    def preempt_count(self) -> int:
        """Preemption-disable depth (a read an invariant makes is noted)."""
        self._noted()
        return self._preempt_count

    @preempt_count.setter
    def preempt_count(self, value: int) -> None:
        self._preempt_count = value

    def __repr__(self) -> str:
        return self.name


class Machine:
    """All state of one execution: objects, CPUs, threads, the heap."""

    def __init__(self, cpus: int = 0, ids: ObjectIds | None = None) -> None:
        #: every shared object, in creation order
        self.objects: list[SharedObject] = []
        #: the same, by id
        self.by_oid: dict[int, SharedObject] = {}
        #: the record an invariant is reading into right now (see ctxcheck.observe)
        self.reads: PropertyReads | None = None
        #: set by the runtime: the thread whose step is running (None in setup)
        self.creator: Thread | None = None
        #: set by the runtime under --memory-model lkmm: the run's execution graph
        self.weak: Any = None
        self._ids = ids if ids is not None else ObjectIds()
        self._made: dict[tuple[Any, ...], int] = {}
        self._seq: dict[str, int] = {}
        self.threads: list[Thread] = []
        self.unstarted: list[tuple[Thread, ThreadFunc, tuple[Any, ...]]] = []
        self.heap: list[Struct] = []
        self.rcu = SharedObject(self, "rcu")
        self.cpus: list[CPU] = [CPU(self, i) for i in range(cpus)]
        self._task_threads: dict[int, Thread] = {}
        #: declared symmetry groups (``spawn(..., symmetric=NAME)``): per group,
        #: each member with its function and arguments (see :mod:`ctxcheck.symmetry`)
        self.symmetric: dict[str, list[tuple[Thread, ThreadFunc, tuple[Any, ...]]]] = {}
        #: set by the runtime: index of the step being executed
        self.step = 0

    def add_cpus(self, n: int) -> list[CPU]:
        """Bring up ``n`` more CPUs (idle: no current task)."""
        for _ in range(n):
            self.cpus.append(CPU(self, len(self.cpus)))
        return self.cpus

    # -- objects -----------------------------------------------------------
    def register(self, obj: SharedObject, name: str) -> int:
        """Give a new shared object its id: the same in every execution of the search."""
        kind = _KINDS.get(name)
        if kind is None:
            kind = _KINDS[name] = _KIND.sub("#", name)
        # _creation_key, inlined: every object of every run is registered here
        creator = self.creator
        owner = creator.key if creator is not None else ()
        made = self._made
        n = made.get(owner, 0)
        made[owner] = n + 1
        oid = self._ids.id_of(((owner, n), kind))
        self.objects.append(obj)
        self.by_oid[oid] = obj
        return oid

    def _creation_key(self) -> tuple[Any, ...]:
        """(creator's key, how many things it created before): unique in a run."""
        owner = self.creator.key if self.creator is not None else ()
        n = self._made.get(owner, 0)
        self._made[owner] = n + 1
        return (owner, n)

    def struct_seq(self, kind: str) -> int:
        """Next sequence number for naming instances of a struct kind."""
        n = self._seq.get(kind, 0) + 1
        self._seq[kind] = n
        return n

    def new(self, struct: type[S], name: str | None = None, **init: Any) -> S:
        """A statically allocated struct (``init_task``, a per-CPU variable)."""
        return struct(self, name=name, heap=False, **init)

    def alloc(self, struct: Callable[..., S], name: str | None = None, **init: Any) -> S:
        """A heap struct, as ``kmalloc`` makes it; tracked until ``kfree``."""
        obj = struct(self, name=name, heap=True, **init)
        self.heap.append(obj)
        return obj

    def live_heap(self) -> list[Struct]:
        """Heap structs not yet freed (what a leak check looks at)."""
        return [obj for obj in self.heap if not obj.freed]

    # -- threads -----------------------------------------------------------
    def spawn(
        self,
        name: str,
        func: ThreadFunc,
        *args: Any,
        cpu: CPU | None = None,
        task: Any = None,
        irq: bool = False,
        parent: int | None = None,
        symmetric: str | None = None,
    ) -> Thread:
        """Create a thread running ``func(k, *args)``.

        ``cpu`` binds it to a CPU; ``task`` is the task struct it runs as
        (``current``). With ``irq=True`` it is an interrupt thread of ``cpu``.
        ``symmetric`` names a group of interchangeable threads (spawned in
        setup, same function, arguments equal but for objects each owns):
        the stateful explorers then explore one of each permutation of the
        group's members (:mod:`ctxcheck.symmetry`).
        """
        if irq and cpu is None:
            raise ValueError(f"interrupt thread {name!r} needs a cpu")
        if symmetric is not None and self.creator is not None:
            raise ValueError(
                f"thread {name!r}: symmetric threads are spawned by setup, not by a step"
            )
        tid = len(self.threads)
        key = self._creation_key()
        done = SharedObject(self, f"{name}.done")
        thread = Thread(tid, name, cpu, task, irq, done, parent)
        thread.key = key
        self.threads.append(thread)
        if task is not None and not irq:
            self._task_threads[id(task)] = thread
        self.unstarted.append((thread, func, args))
        if symmetric is not None:
            self.symmetric.setdefault(symmetric, []).append((thread, func, args))
        return thread

    def spawn_thread(
        self,
        name: str,
        func: ThreadFunc,
        args: tuple[Any, ...],
        cpu: CPU | None,
        task: Any,
        irq: bool,
        parent: int,
    ) -> Thread:
        """:meth:`spawn` as a step does it (the ``spawn`` primitive)."""
        return self.spawn(name, func, *args, cpu=cpu, task=task, irq=irq, parent=parent)

    def thread_of(self, task: Any) -> Thread | None:
        """The task thread that runs as ``task``, if the model has one."""
        if task is None:
            return None
        return self._task_threads.get(id(task))

    def running_on(self, cpu: CPU) -> Thread | None:
        """The task thread of ``cpu``'s current task (None for idle)."""
        return self.thread_of(cpu.curr.value)

    def accepts_interrupt(self, cpu: CPU, preempt: bool = False) -> bool:
        """Whether an interrupt may enter ``cpu`` now.

        With ``preempt``, also require that the running task could be
        preempted (no spinlock held, preemption not disabled).
        """
        if cpu._handler is not None:
            return False
        running = self._task_threads.get(id(cpu.curr._value))
        if running is None:
            return True
        if running._irqs_off:
            return False
        return not (preempt and running._preempt_count > 0)

    def runnable(self, thread: Thread) -> bool:
        """May ``thread`` take a step now, ignoring what its operation needs?"""
        cpu = thread.cpu
        if cpu is None:
            return True
        if thread.irq:
            return thread.in_irq or cpu._handler is None
        return cpu._handler is None and cpu.curr._value is thread.task

    def quiescent(self) -> bool:
        """No thread holds a spinlock, has IRQs off or is inside a handler.

        Asked while quiescent invariants are judged, so it reads what it
        reads through the noting properties, as they do.
        """
        for thread in self.threads:
            if thread.finished:
                continue
            if thread.irqs_off or thread.in_irq or thread.preempt_count:
                return False
        return True

    def results(self) -> dict[str, Any]:
        """What each finished thread returned (its generator's ``return``), by thread name."""
        return {t.name: t.result for t in self.threads if t.finished}

    def live_threads(self) -> Iterator[Thread]:
        """Threads that have not finished."""
        return (t for t in self.threads if not t.finished)
