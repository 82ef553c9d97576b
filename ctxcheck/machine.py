"""The simulated machine: CPUs, threads and every shared object of one run.

A :class:`Machine` is built afresh for every execution by the model's setup
function and then driven by the runtime (:mod:`ctxcheck.runtime`). It knows
the execution rules that do not belong to any one operation:

* a *task thread* bound to a CPU runs only while its task is that CPU's
  ``curr`` and no interrupt handler occupies the CPU;
* an *interrupt thread* (an IPI handler, a timer tick, the scheduler) enters
  a CPU only while the task running there has IRQs on (and, for preemption,
  preemption on), and then owns the CPU until it leaves;
* an unbound thread (``cpu=None``) stands for code on a CPU the model does not
  track, and may always run.

Each CPU has an ``exec`` object: every step of a task thread on the CPU reads
it, and every change of who may run there (IRQs off/on, preemption, an
interrupt entering or leaving, a context switch) writes it. That way the
enabling and disabling of threads shows up as ordinary conflicts, and
partial-order reduction needs no special case for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ctxcheck.objects import Cell, Lock, SharedObject, Struct

if TYPE_CHECKING:
    from ctxcheck.kernel import Kernel
    from ctxcheck.ops import Op

S = TypeVar("S", bound=Struct)

#: ids of shared objects by (creator, creation index, kind), for the process
_STABLE_IDS: dict[tuple[Any, ...], int] = {}
#: the instance number in an object's name (``ctx#2.lock``): not part of its kind
_KIND = re.compile(r"#\d+")

#: A thread body: a generator of operations, started with its kernel handle.
ThreadFunc = Callable[..., Generator[Any, Any, Any]]


class CPU:
    """One processor: its current task and who occupies it right now."""

    __slots__ = ("index", "name", "curr", "exec", "handler")

    def __init__(self, machine: Machine, index: int) -> None:
        self.index = index
        self.name = f"cpu{index}"
        #: ``rq->curr``: the task struct running here, or None for idle
        self.curr = Cell(machine, f"{self.name}.curr", None)
        self.exec = SharedObject(machine, f"{self.name}.exec")
        #: the interrupt thread inside this CPU, if any
        self.handler: Thread | None = None

    def __repr__(self) -> str:
        return self.name


class Thread:
    """One thread of control: a task's kernel path or an interrupt handler."""

    __slots__ = (
        "tid", "name", "gen", "k", "cpu", "task", "irq", "pending", "finished",
        "result", "irqs_off", "preempt_count", "rcu_depth", "in_irq", "held",
        "done", "parent", "key",
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
        self.k: Kernel | None = None
        self.cpu = cpu
        self.task = task
        self.irq = irq
        self.pending: Op | None = None
        self.finished = False
        self.result: Any = None
        self.irqs_off = False
        self.preempt_count = 0
        self.rcu_depth = 0
        self.in_irq = False
        self.held: list[Lock] = []
        #: released when the thread finishes; what a waiter on it synchronises with
        self.done = done
        self.parent = parent
        #: how the thread is named across executions (see Machine.register)
        self.key: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        return self.name


class Machine:
    """All state of one execution: objects, CPUs, threads, the heap."""

    def __init__(self, cpus: int = 0) -> None:
        #: every shared object, in creation order
        self.objects: list[SharedObject] = []
        #: the same, by id
        self.by_oid: dict[int, SharedObject] = {}
        #: set by the runtime: the thread whose step is running (None in setup)
        self.creator: Thread | None = None
        self._made: dict[tuple[Any, ...], int] = {}
        self._seq: dict[str, int] = {}
        self.threads: list[Thread] = []
        self.unstarted: list[tuple[Thread, ThreadFunc, tuple[Any, ...]]] = []
        self.heap: list[Struct] = []
        self.rcu = SharedObject(self, "rcu")
        self.cpus: list[CPU] = [CPU(self, i) for i in range(cpus)]
        self._task_threads: dict[int, Thread] = {}
        #: set by the runtime: index of the step being executed
        self.step = 0

    def add_cpus(self, n: int) -> list[CPU]:
        """Bring up ``n`` more CPUs (idle: no current task)."""
        for _ in range(n):
            self.cpus.append(CPU(self, len(self.cpus)))
        return self.cpus

    # -- objects -----------------------------------------------------------
    def register(self, obj: SharedObject, name: str) -> int:
        """Give a new shared object its id: the same in every execution.

        The id names the object by who made it, not by when: the thread
        whose step created it (or the setup), how many things that thread
        had created before, and the object's kind. So an object keeps its id
        when independent steps of other threads are reordered, and what one
        execution learnt about an id (which invariants read it) applies to
        the same object in the next (see :mod:`ctxcheck.observe`).
        """
        key = (self._creation_key(), _KIND.sub("#", name))
        oid = _STABLE_IDS.get(key)
        if oid is None:
            oid = _STABLE_IDS[key] = len(_STABLE_IDS)
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

    def alloc(self, struct: type[S], name: str | None = None, **init: Any) -> S:
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
    ) -> Thread:
        """Create a thread running ``func(k, *args)``.

        ``cpu`` binds it to a CPU; ``task`` is the task struct it runs as
        (``current``). With ``irq=True`` it is an interrupt thread of ``cpu``.
        """
        if irq and cpu is None:
            raise ValueError(f"interrupt thread {name!r} needs a cpu")
        tid = len(self.threads)
        key = self._creation_key()
        done = SharedObject(self, f"{name}.done")
        thread = Thread(tid, name, cpu, task, irq, done, parent)
        thread.key = key
        self.threads.append(thread)
        if task is not None and not irq:
            self._task_threads[id(task)] = thread
        self.unstarted.append((thread, func, args))
        return thread

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
        if cpu.handler is not None:
            return False
        running = self.running_on(cpu)
        if running is None:
            return True
        if running.irqs_off:
            return False
        return not (preempt and running.preempt_count > 0)

    def runnable(self, thread: Thread) -> bool:
        """May ``thread`` take a step now, ignoring what its operation needs?"""
        cpu = thread.cpu
        if cpu is None:
            return True
        if thread.irq:
            return thread.in_irq or cpu.handler is None
        return cpu.handler is None and cpu.curr.value is thread.task

    def quiescent(self) -> bool:
        """No thread holds a spinlock, has IRQs off or is inside a handler."""
        for thread in self.threads:
            if thread.finished:
                continue
            if thread.irqs_off or thread.in_irq or thread.preempt_count:
                return False
        return True

    def live_threads(self) -> Iterator[Thread]:
        """Threads that have not finished."""
        return (t for t in self.threads if not t.finished)
