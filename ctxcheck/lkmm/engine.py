"""The engine under ``--memory-model lkmm``: an execution graph grown step by step.

Under sequential consistency a load returns the value of the last store.
Under the Linux kernel memory model it may return an older one, and a store
may take its place in a location's coherence order before stores that were
made earlier.  :class:`WeakMemory` is kept by the machine of one execution
(``machine.weak``) and makes those choices explicit: every access to a word
of a struct (a :class:`~ctxcheck.primitives.memory.Cell` with an owner) is
an event of an LKMM execution graph, and

- a load has one outcome per write it may read from,
- a store one per place it may take in the coherence order,
- a read-modify-write one per write it may read (its own write goes right
  after it, as the ``atomic`` axiom wants; a ``cmpxchg`` whose read does
  not match is a relaxed read),

each checked with :func:`ctxcheck.lkmm.incremental.is_consistent` on the
graph so far when there is more than one.  Outcome 0 is always what
sequential consistency gives (the latest write; the end of the coherence
order), so a schedule without weak outcomes is an SC execution.  The
explorers treat these outcomes like any other nondeterministic choice
(``Op.branches``), so the counterexamples replay.

Which executions this explores: every LKMM-consistent execution whose
``po | rf`` is acyclic, i.e. one in which no read takes its value from a
write that comes later in an interleaving (load buffering).  Stale reads
(message passing, store buffering, IRIW) and coherence orders against the
order of execution (2+2W, S, R) are explored.  Pruning on the partial graph
is sound because every LKMM axiom is monotone (see ``incremental``); the
final graph is judged once more, and an execution the LKMM forbids ends
without a verdict of its own (it is not an execution of the program).

What the engine records and what it leaves sequentially consistent:

- words of structs: loads (``plain``, ``once`` for ``READ_ONCE`` and
  ``atomic_read``, ``acquire``), stores (``plain``, ``once``, ``release``),
  atomics with the LKMM's orderings (fully ordered value-returning ones,
  ``noreturn`` for ``atomic_inc`` and friends);
- memory a step allocates starts *uninitialised*: its fields get an initial
  write of :data:`UNINIT` and the allocating thread's initialisation is an
  ordinary plain store, so a reader on another CPU that is not ordered after
  it may read the uninitialised value: a ``memory_safety`` violation;
- spinlocks and mutexes are the lock events of lock.cat (a mutex orders as a
  spinlock does); RCU read sections and grace periods are its fences;
  starting a thread (an IPI, an RCU callback) is a release its first step
  acquires, and waiting for a thread (an IPI's ``wait=1``) acquires its end;
- one LKMM thread per CPU: every model thread bound to a CPU (the task,
  the interrupt handlers that run there) is in that CPU's program order;
  a thread on no CPU is its own;
- dependencies: an *address* dependency from the read that gave this thread
  the pointer to a struct to every later access to that struct's words, and
  a *data* dependency when such a pointer is stored.  Dependencies through
  integers and control dependencies are not tracked: an outcome that only
  they forbid may be reported (a false alarm, never a missed bug);
- the rest (the CPUs' current task, kernel lists, the heap's lifetimes,
  IRQ state) stays sequentially consistent.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from ctxcheck.errors import PropertyViolated
from ctxcheck.lkmm.events import Event, Kind
from ctxcheck.lkmm.graph import Graph
from ctxcheck.lkmm.incremental import is_consistent, judge
from ctxcheck.lkmm.judgement import Judgement
from ctxcheck.lkmm.thread import RMW_TAGS
from ctxcheck.primitives.base import MEMORY_SAFETY, SharedObject, StepThread, describe
from ctxcheck.primitives.heap import Struct

#: the property a data race between plain accesses violates under lkmm
DATA_RACE = "data_race"


class _Uninitialised:
    """The contents of memory ``kmalloc`` returned, before anyone wrote it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "uninitialised"


#: what a word of newly allocated memory holds before its initialising store
UNINIT: Any = _Uninitialised()

#: thread numbers of the LKMM graph for threads on no CPU start here
UNBOUND_BASE = 1000


class WeakMemory:
    """The LKMM execution graph of one run, and the choices it allows."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        #: the engine step (0: setup) and thread name of each event
        self.step_of: list[int] = []
        self.who: list[str] = []
        self.rf: dict[int, int] = {}
        self.co: dict[str, list[int]] = {}
        self.rmw: set[tuple[int, int]] = set()
        self.addr: set[tuple[int, int]] = set()
        self.data: set[tuple[int, int]] = set()
        self._po: dict[int, int] = {}
        #: (lkmm thread, location) -> the co-latest write that thread has seen there
        self._seen: dict[tuple[int, str], int] = {}
        #: (model thread, id of a struct) -> the read that gave the thread its pointer
        self._got: dict[tuple[int, int], int] = {}
        #: a started thread's first event acquires its parent's release
        self._spawned: dict[int, int] = {}
        self._ended: dict[int, int] = {}
        self._options: tuple[tuple[int, int], list[int]] | None = None
        #: what the last step did that sequential consistency would not (for the trace)
        self.note = ""
        self.step = 0

    # -- graph -------------------------------------------------------------
    def graph(self) -> Graph:
        """The graph so far (a snapshot: later events do not change it)."""
        return self._graph(self.events, self.rf, self.co)

    def _graph(self, events: list[Event], rf: dict[int, int], co: dict[str, list[int]]) -> Graph:
        return Graph(
            list(events),
            dict(rf),
            {loc: tuple(order) for loc, order in co.items()},
            frozenset(self.rmw),
            frozenset(self.addr),
            frozenset(self.data),
        )

    def settle(self) -> Judgement:
        """The LKMM's judgement of the graph as it is (complete or cut by a violation)."""
        return judge(self.graph())

    @staticmethod
    def lkmm_tid(t: StepThread) -> int:
        cpu = t.cpu
        return cpu.index if cpu is not None else UNBOUND_BASE + t.tid

    def _emit(
        self,
        t: StepThread | None,
        kind: Kind,
        tag: str,
        loc: str | None,
        value: Any,
        label: str,
        rmw: bool = False,
    ) -> int:
        if t is None:
            ltid, index = -1, len(self.events)
        else:
            self._acquire_start(t)
            ltid = self.lkmm_tid(t)
            index = self._po.get(ltid, 0)
            self._po[ltid] = index + 1
        self.events.append(Event(ltid, index, kind, tag, loc, value, rmw=rmw, label=label))
        self.step_of.append(self.step if t is not None else 0)
        self.who.append(t.name if t is not None else "init")
        return len(self.events) - 1

    def _acquire_start(self, t: StepThread) -> None:
        """A started thread's first event reads its parent's release."""
        w = self._spawned.pop(t.tid, None)
        if w is not None:
            r = self._emit(t, Kind.R, "acquire", self.events[w].loc, 1, f"{t.name} starts")
            self.rf[r] = w

    # -- words of memory ---------------------------------------------------
    def new_word(self, obj: SharedObject, value: Any, creator: StepThread | None) -> None:
        """A word comes to exist: its initial write (and the allocator's store of it)."""
        loc = obj.name
        if creator is None:
            self.co[loc] = [self._emit(None, Kind.W, "init", loc, value, f"initial {loc}")]
            return
        self.co[loc] = [self._emit(None, Kind.W, "init", loc, UNINIT, f"kmalloc'd {loc}")]
        w = self._emit(creator, Kind.W, "plain", loc, value, f"{creator.name} initialises {loc}")
        self.co[loc].append(w)
        self._seen[(self.lkmm_tid(creator), loc)] = w

    def options(self, op: Any, t: StepThread) -> list[int]:
        """The outcomes of cell op ``op`` of ``t`` now.

        For a read or an RMW: the writes it may read (latest first); for a
        write: the coherence positions it may take (the end first).
        """
        cell = op.cell
        key = (len(self.events), id(op))
        if self._options is not None and self._options[0] == key:
            return self._options[1]
        kind = op.weak_kind
        order = self.co[cell.name]
        floor = self._floor(t, cell.name)
        atomic = self._rmw_writes()  # nothing may come between an RMW and its source
        if kind == "write":
            ends = len(order)
            out = [p for p in range(ends, floor, -1) if p == ends or (order[p - 1], order[p])
                   not in atomic]  # fmt: skip
        else:
            out = [order[i] for i in range(len(order) - 1, floor - 1, -1)]
            if kind == "rmw":
                sources = {src for src, _ in atomic}
                out = [w for w in out if not (w in sources and op.wrote(self.events[w].value))]
        if len(out) > 1:  # the SC outcome (first) is judged with the whole graph
            out = out[:1] + [o for o in out[1:] if self._allowed(op, t, o)]
        self._options = (key, out)
        return out

    def _floor(self, t: StepThread, loc: str) -> int:
        """The first co position this CPU may still see at ``loc`` (coherence)."""
        seen = self._seen.get((self.lkmm_tid(t), loc))
        return 0 if seen is None else self.co[loc].index(seen)

    def _rmw_writes(self) -> set[tuple[int, int]]:
        """(source, write) of every RMW: nothing may come between them in co."""
        return {(self.rf[r], w) for r, w in self.rmw}

    def _allowed(self, op: Any, t: StepThread, choice: int) -> bool:
        """Whether the graph with this one choice made is still LKMM-consistent."""
        n = len(self.events)
        saved = (dict(self.rf), {k: list(v) for k, v in self.co.items()})
        sets = (set(self.rmw), set(self.addr), set(self.data))
        maps = (dict(self._po), dict(self._seen), dict(self._spawned), dict(self._got))
        value = op.cell._value
        with suppress(PropertyViolated):  # reading uninitialised memory: judged below
            self._do(op, t, choice)
        try:
            return is_consistent(self.graph())
        finally:
            del self.events[n:], self.step_of[n:], self.who[n:]
            self.rf, self.co = saved
            self.rmw, self.addr, self.data = sets
            self._po, self._seen, self._spawned, self._got = maps
            op.cell._value = value
            self.note = ""

    def _deps(self, t: StepThread, cell: Any, event: int) -> None:
        owner = getattr(cell, "owner", None)
        if owner is not None:
            src = self._got.get((t.tid, id(owner)))
            if src is not None:
                self.addr.add((src, event))

    def _got_value(self, t: StepThread, value: Any, read: int) -> None:
        if isinstance(value, Struct):
            self._got[(t.tid, id(value))] = read

    def _read(self, t: StepThread, cell: Any, tag: str, label: str, source: int) -> Any:
        loc = cell.name
        value = self.events[source].value
        r = self._emit(t, Kind.R, tag, loc, value, label)
        self.rf[r] = source
        self._deps(t, cell, r)
        self._see(t, loc, source)
        if value is UNINIT:
            raise PropertyViolated(MEMORY_SAFETY, self._uninit_message(t, loc, source))
        self._got_value(t, value, r)
        return value

    def _see(self, t: StepThread, loc: str, w: int) -> None:
        key = (self.lkmm_tid(t), loc)
        order = self.co[loc]
        old = self._seen.get(key)
        if old is None or order.index(old) < order.index(w):
            self._seen[key] = w

    def _write(self, t: StepThread, cell: Any, tag: str, value: Any, label: str, pos: int) -> None:
        loc = cell.name
        w = self._emit(t, Kind.W, tag, loc, value, label)
        self._deps(t, cell, w)
        src = self._got.get((t.tid, id(value)))
        if src is not None:
            self.data.add((src, w))
        self.co[loc].insert(pos, w)
        self._see(t, loc, w)

    def _rmw(
        self,
        t: StepThread,
        cell: Any,
        order: str,
        label: str,
        source: int,
        update: Callable[[Any], tuple[Any, bool]],
    ) -> Any:
        """Read ``source``; ``update(old)`` gives (result, whether it writes)."""
        loc = cell.name
        old = self.events[source].value
        if old is UNINIT:
            self._read(t, cell, "once", label, source)  # raises
        result, wrote = update(old)
        if not wrote:  # a failed cmpxchg: a relaxed read, no ordering of its own
            r = self._emit(t, Kind.R, "once", loc, old, label, rmw=True)
            self.rf[r] = source
            self._deps(t, cell, r)
            self._see(t, loc, source)
            self._got_value(t, result, r)
            return result
        rtag, wtag = RMW_TAGS[order]
        if order == "mb":
            self._emit(t, Kind.F, "mb", None, None, label)
        r = self._emit(t, Kind.R, rtag, loc, old, label, rmw=True)
        self.rf[r] = source
        self._deps(t, cell, r)
        new = cell._value
        w = self._emit(t, Kind.W, wtag, loc, new, label, rmw=True)
        self.rmw.add((r, w))
        order_list = self.co[loc]
        order_list.insert(order_list.index(source) + 1, w)
        self._see(t, loc, w)
        if order == "mb":
            self._emit(t, Kind.F, "mb", None, None, label)
        self._got_value(t, result, r)
        return result

    def latest(self, cell: Any) -> Any:
        """The value at the end of ``cell``'s coherence order (what memory holds)."""
        return self.events[self.co[cell.name][-1]].value

    # -- what a Cell op asks -----------------------------------------------
    def perform(self, op: Any, t: StepThread, branch: int) -> Any:
        """Run cell op ``op`` of thread ``t`` with outcome ``branch``."""
        return self._do(op, t, self.options(op, t)[branch])

    def _do(self, op: Any, t: StepThread, choice: int) -> Any:
        cell = op.cell
        kind = op.weak_kind
        label = op.name
        if kind == "read":
            self._note_read(t, cell, choice)
            return self._read(t, cell, op.lkmm_tag, label, choice)
        if kind == "write":
            end = len(self.co[cell.name])
            self._write(t, cell, op.lkmm_tag, op.value, label, choice)
            cell._value = self.latest(cell)
            if choice != end:
                after = self.co[cell.name][choice + 1]
                self.note = (
                    f"coherence: this store comes before {self._describe(after)} "
                    f"in {cell.name}'s order"
                )
            return None

        def update(old: Any) -> tuple[Any, bool]:
            cell._value = old
            result = op.apply(cell)
            return result, op.wrote(old)

        self._note_read(t, cell, choice)
        result = self._rmw(t, cell, op.lkmm_tag, label, choice, update)
        cell._value = self.latest(cell)
        return result

    def _note_read(self, t: StepThread, cell: Any, source: int) -> None:
        order = self.co[cell.name]
        pos = order.index(source)
        later = [w for w in order[pos + 1 :] if self.events[w].tid != self.lkmm_tid(t)]
        if later and source != order[-1]:
            self.note = (
                f"stale: reads {self._describe(source)}; {self._describe(later[-1])} "
                f"is not yet visible to {self._cpu_name(t)}"
            )

    def _describe(self, e: int) -> str:
        ev = self.events[e]
        if ev.tid < 0:
            if ev.value is UNINIT:
                return "uninitialised memory"
            return f"the initial value ({describe(ev.value)})"
        return f"the store of {describe(ev.value)} by {self.who[e]} at step {self.step_of[e]}"

    def _cpu_name(self, t: StepThread) -> str:
        cpu = t.cpu
        return cpu.name if cpu is not None else t.name

    def _uninit_message(self, t: StepThread, loc: str, source: int) -> str:
        init = [w for w in self.co[loc] if self.events[w].tid >= 0]
        by = f"; {self._describe(init[0])} is not yet visible to it" if init else ""
        return f"{t.name} reads {loc} before it is initialised: uninitialised memory{by}"

    # -- what other steps add ------------------------------------------------
    def fence(self, t: StepThread, tag: str, label: str) -> None:
        self._emit(t, Kind.F, tag, None, None, label)

    def lock(self, t: StepThread, lock: SharedObject, label: str) -> None:
        loc = self._lock_loc(lock)
        order = self.co[loc]
        r = self._emit(t, Kind.R, "lkr", loc, 0, label, rmw=True)
        self.rf[r] = order[-1]
        self._deps(t, lock, r)
        w = self._emit(t, Kind.W, "lkw", loc, 1, label, rmw=True)
        self.rmw.add((r, w))
        order.append(w)

    def unlock(self, t: StepThread, lock: SharedObject, label: str) -> None:
        loc = self._lock_loc(lock)
        self.co[loc].append(self._emit(t, Kind.W, "ul", loc, 0, label))

    def _lock_loc(self, lock: SharedObject) -> str:
        loc = lock.name
        if loc not in self.co:
            self.co[loc] = [self._emit(None, Kind.W, "init", loc, 0, f"initial {loc}")]
        return loc

    def spawned(self, parent: StepThread, child: StepThread) -> None:
        loc = f"start:{child.tid}"
        w = self._emit(parent, Kind.W, "release", loc, 1, f"{parent.name} starts {child.name}")
        init = self._emit(None, Kind.W, "init", loc, 0, f"initial {loc}")
        self.co[loc] = [init, w]
        self._spawned[child.tid] = w

    def finished(self, t: StepThread) -> None:
        loc = f"end:{t.tid}"
        w = self._emit(t, Kind.W, "release", loc, 1, f"{t.name} ends")
        init = self._emit(None, Kind.W, "init", loc, 0, f"initial {loc}")
        self.co[loc] = [init, w]
        self._ended[t.tid] = w

    def joined(self, t: StepThread, other: StepThread) -> None:
        w = self._ended.get(other.tid)
        if w is None:
            return
        label = f"{t.name} waits for {other.name}"
        r = self._emit(t, Kind.R, "acquire", self.events[w].loc, 1, label)
        self.rf[r] = w

    # -- the verdict of a whole run ------------------------------------------
    def race_message(self, judgement: Judgement) -> str:
        """The first racing pair, as a reviewer reads it."""
        a, b = judgement.races[0]
        ea, eb = self.events[a], self.events[b]
        return (
            f"data race on {ea.loc}: {self._access(a)} and {self._access(b)} are not "
            f"ordered, and {'both are' if ea.tag == eb.tag == 'plain' else 'one is'} plain "
            f"({len(judgement.races)} racing pair(s) in this execution)"
        )

    def _access(self, e: int) -> str:
        ev = self.events[e]
        verb = "reads" if ev.kind is Kind.R else "writes"
        return f"{self.who[e]} {verb} it ({ev.tag}) at step {self.step_of[e]}"
