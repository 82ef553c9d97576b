"""Small random concurrent programs, as a hypothesis strategy: :func:`programs`.

Explorers are tested against each other on programs nobody wrote by hand:
every exhaustive explorer must give the same verdict on each, and the
reducing ones must explore no more (or exactly as many) executions as the
theory says. A program is 2-4 threads of up to ~8 instructions over one
shared struct (three integer cells, a spinlock and a mutex, a list head
with two entries, two pointer slots for heap nodes); each instruction is
one or a few steps of the model API (load, store, cmpxchg, xchg,
atomic_inc, lock-protected blocks, list_add/list_del/list_empty,
kmalloc/kfree through the pointer slots, choose, BUG_ON).

A :class:`Program` is plain data with a readable ``repr`` (what hypothesis
prints when it shrinks a failing example); :meth:`Program.model` turns it
into a :class:`~ctxcheck.model.Model` usable with :func:`ctxcheck.check`.
Properties: a final check on a cell's value, an optional invariant over
two cells (checked after every step), "no leak" of heap nodes, and the
built-in ones the primitives raise.

The size of a program is capped by an estimate of its interleavings
(``max_interleavings``) so that the naive oracle stays cheap; hypothesis is
imported only when :func:`programs` is called.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any

from ctxcheck.kernel import Kernel, Steps
from ctxcheck.machine import Machine
from ctxcheck.model import Config, Model, Property
from ctxcheck.primitives import Cell, ListHead, Lock, Mutex, Spinlock, Struct, field, list_head
from ctxcheck.primitives import mutex as mutex_field
from ctxcheck.primitives import spinlock as spinlock_field

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn, SearchStrategy

NCELLS = 3


class shared(Struct):  # noqa: N801 - named like a C struct
    """Everything the threads of a generated program share."""

    _label = "sh"
    c0: Cell = field(0)
    c1: Cell = field(0)
    c2: Cell = field(0)
    p0: Cell = field(None)
    p1: Cell = field(None)
    spin: Spinlock = spinlock_field()
    mtx: Mutex = mutex_field()
    head: ListHead = list_head()


class entry(Struct):  # noqa: N801
    """A list entry: the node lives in a struct, as in the kernel."""

    node: ListHead = list_head()


class node(Struct):  # noqa: N801
    """A heap object the threads publish through a pointer slot."""

    val: Cell = field(0)


@dataclass(frozen=True)
class Instr:
    """One instruction: an operation name and its small integer arguments.

    ``load c`` (into the thread's register), ``store c v`` (v < 0 stores
    register + 1), ``cmpxchg c old new``, ``xchg c v``, ``inc c`` (an add
    whose value the thread does not see), ``add_return c d`` (its value goes to
    the register), ``inc_not_zero c``,
    ``locked lock body...`` (0 = spinlock, 1 = mutex), ``list_add e``,
    ``list_del e``, ``list_empty``, ``alloc p`` (kmalloc, may fail, then
    publish in slot p), ``free p`` (load slot p, kfree what is there),
    ``deref p c`` (load slot p, store into the node), ``choose c n`` (store
    one of n values), ``bug_on c v`` (load c; BUG_ON when it equals v),
    ``spin c v f`` (wait until c == v: with ``k.spin_until`` when f is 0,
    ``k.smp_cond_load_relaxed`` when 1, or, in a program with
    ``spin_retries`` N > 0, a loop of at most N loads that gives up after
    the N-th, see :func:`spin_programs`).
    """

    op: str
    args: tuple[int, ...] = ()
    body: tuple[Instr, ...] = ()

    def __repr__(self) -> str:
        text = " ".join([self.op, *map(str, self.args)])
        if self.body:
            text += " { " + "; ".join(map(repr, self.body)) + " }"
        return text

    def steps(self) -> int:
        """The most steps this instruction can take."""
        own = 2 if self.op in ("locked", "free", "deref", "alloc", "choose") else 1
        if self.op == "spin":
            own = SPIN_STEPS
        return own + sum(i.steps() for i in self.body)


@dataclass(frozen=True)
class Program:
    """A generated program: threads of instructions and what to check."""

    threads: tuple[tuple[Instr, ...], ...]
    #: final property: cell 0 must not end with this value
    final_bad: int
    #: optional invariant: cells (a, b) must never sum to s
    invariant: tuple[int, int, int] | None = None
    #: 0: ``spin`` blocks (the wait primitives); N > 0: it is a loop of at most N loads
    spin_retries: int = 0
    #: the first this many threads (with one body) are declared a symmetric group
    #: (``spawn(..., symmetric="T")``, see :func:`symmetric_programs`)
    symmetric: int = 0

    def __repr__(self) -> str:
        lines = [f"Program(final c0 != {self.final_bad}"]
        if self.invariant:
            a, b, s = self.invariant
            lines[0] += f", invariant c{a} + c{b} != {s}"
        if self.spin_retries:
            lines[0] += f", spin as a loop of {self.spin_retries} loads"
        if self.symmetric:
            lines[0] += f", T0..T{self.symmetric - 1} symmetric"
        lines[0] += ")"
        for i, body in enumerate(self.threads):
            lines.append(f"  T{i}: " + "; ".join(map(repr, body)))
        return "\n".join(lines)

    def interleavings(self) -> int:
        """An upper bound on the schedules: multinomial of the step counts."""
        counts = [sum(i.steps() for i in body) for body in self.threads]
        total = math.factorial(sum(counts))
        for c in counts:
            total //= math.factorial(c)
        return total

    def model(self) -> Model:
        """The program as a checkable model."""
        props = [
            Property("final_value", f"c0 != {self.final_bad} at the end", self._final, final=True),
            Property("no_leak", "every heap node freed or published", _no_leak, final=True),
        ]
        if self.invariant is not None:
            props.append(Property("invariant", "two cells never sum to s", self._invariant))
        if self.spin_retries:
            props.append(Property("spin_stuck", "a spin loop gave up for good", _stuck, final=True))
        return Model(
            name="programs.generated",
            doc=repr(self),
            setup=self._setup,
            properties=tuple(props),
            max_steps=200,
        )

    def _setup(self, m: Machine, cfg: Config) -> _State:
        sh = m.new(shared, name="sh")
        entries = [m.new(entry, name=f"e{i}") for i in range(2)]
        state = _State(sh, entries, self.spin_retries)
        if self.spin_retries:
            state.gave_up = [m.new(giveup, name=f"gave_up{i}") for i in range(len(self.threads))]
        for i, body in enumerate(self.threads):
            gave = state.gave_up[i] if self.spin_retries else None
            if i < self.symmetric:
                assert body == self.threads[0], "symmetric threads run one body"
                m.spawn(f"T{i}", _run, state, self.threads[0], gave, symmetric="T")
            else:
                m.spawn(f"T{i}", _run, state, body, gave)
        return state

    def _final(self, m: Machine, s: _State) -> str | None:
        if _spun_out(s):
            return None
        value = s.sh.c0.value
        return f"c0 ended as {value}" if value == self.final_bad else None

    def _invariant(self, m: Machine, s: _State) -> str | None:
        assert self.invariant is not None
        a, b, total = self.invariant
        va, vb = _cell(s.sh, a).value, _cell(s.sh, b).value
        return f"c{a} + c{b} = {total}" if va + vb == total else None


class giveup(Struct):  # noqa: N801
    """Where a spin loop that gave up notes what it waited for: (cell, value)."""

    what: Cell = field(None)


#: the most steps of a ``spin`` instruction (a loop of 2 loads and its give-up note)
SPIN_STEPS = 3


@dataclass
class _State:
    sh: shared
    entries: list[entry]
    spin_retries: int = 0
    gave_up: list[giveup] = dc_field(default_factory=list)


class _GaveUp(Exception):
    """A spin loop ran out of retries: the thread stops there."""


def _spun_out(s: _State) -> bool:
    """Whether a spin loop gave up in this execution (final checks do not apply)."""
    return any(g.what.value is not None for g in s.gave_up)


def _stuck(m: Machine, s: _State) -> str | None:
    """Spin loops gave up, and what each waited for is still false: a blocked wait.

    If what some gave-up loop waited for became true later, the blocking
    wait would have gone on in that execution: it is none of the blocking
    program's, so it says nothing (no final check applies to it).
    """
    waiting = [(i, g.what.value) for i, g in enumerate(s.gave_up) if g.what.value is not None]
    if not waiting:
        return None
    if any(_cell(s.sh, c).value == v for _, (c, v) in waiting):
        return None
    return "; ".join(f"T{i} waits for c{c} == {v} forever" for i, (c, v) in waiting)


def _cell(sh: shared, i: int) -> Cell:
    cell: Cell = getattr(sh, f"c{i % NCELLS}")
    return cell


def _slot(sh: shared, i: int) -> Cell:
    cell: Cell = sh.p1 if i % 2 else sh.p0
    return cell


def _lock(sh: shared, i: int) -> Lock:
    return sh.mtx if i % 2 else sh.spin


def _no_leak(m: Machine, s: _State) -> str | None:
    if _spun_out(s):
        return None
    published = {s.sh.p0.value, s.sh.p1.value}
    leaked = [obj.name for obj in m.live_heap() if obj not in published]
    return f"leaked {', '.join(leaked)}" if leaked else None


def _run(k: Kernel, s: _State, body: Sequence[Instr], gave: giveup | None = None) -> Steps:
    reg = 0
    try:
        for ins in body:
            reg = yield from _exec(k, s, ins, reg)
    except _GaveUp as gave_up:
        assert gave is not None
        yield k.store(gave.what, gave_up.args[0])


def _exec(k: Kernel, s: _State, ins: Instr, reg: int) -> Steps:
    """Run one instruction; return the thread's register afterwards."""
    sh, a = s.sh, ins.args
    op = ins.op
    if op == "load":
        value: int = yield k.load(_cell(sh, a[0]))
        return value
    if op == "store":
        yield k.store(_cell(sh, a[0]), reg + 1 if a[1] < 0 else a[1])
    elif op == "cmpxchg":
        return (yield k.cmpxchg(_cell(sh, a[0]), a[1], a[2]))
    elif op == "xchg":
        return (yield k.xchg(_cell(sh, a[0]), a[1]))
    elif op == "inc":
        yield k.atomic_inc(_cell(sh, a[0]))
    elif op == "add_return":
        return (yield k.atomic_add_return(_cell(sh, a[0]), a[1]))
    elif op == "inc_not_zero":
        return int((yield k.atomic_inc_not_zero(_cell(sh, a[0]))))
    elif op == "locked":
        lock = _lock(sh, a[0])
        yield (k.mutex_lock(lock) if isinstance(lock, Mutex) else k.spin_lock(lock))
        for inner in ins.body:
            reg = yield from _exec(k, s, inner, reg)
        yield (k.mutex_unlock(lock) if isinstance(lock, Mutex) else k.spin_unlock(lock))
    elif op in ("list_add", "list_del", "list_empty"):
        return (yield from _list(k, s, ins, reg))
    elif op == "spin":
        return (yield from _spin(k, s, ins))
    else:
        return (yield from _heap(k, s, ins, reg))
    return reg


def _spin(k: Kernel, s: _State, ins: Instr) -> Steps:
    """Wait until cell c holds v: one blocking step, or a bounded loop of loads."""
    c, v, form = ins.args
    cell = _cell(s.sh, c)
    if s.spin_retries:
        for _ in range(s.spin_retries):
            seen = yield k.load(cell)
            if seen == v:
                return seen
        raise _GaveUp((c % NCELLS, v))
    if form:
        return (yield k.smp_cond_load_relaxed(cell, lambda val: val == v))
    yield k.spin_until(lambda: cell.value == v, reads=(cell,), label=f"c{c} == {v}")
    return v


def _list(k: Kernel, s: _State, ins: Instr, reg: int) -> Steps:
    if ins.op == "list_empty":
        return int((yield k.list_empty(s.sh.head)))
    node_ = s.entries[ins.args[0] % 2].node
    if ins.op == "list_add":
        yield k.list_add(node_, s.sh.head)
    else:
        yield k.list_del(node_)
    return reg


def _heap(k: Kernel, s: _State, ins: Instr, reg: int) -> Steps:
    sh, a = s.sh, ins.args
    if ins.op == "alloc":
        obj = yield k.kmalloc(node, may_fail=True)
        if obj is not None:
            yield k.store(_slot(sh, a[0]), obj)
    elif ins.op == "free":
        obj = yield k.load(_slot(sh, a[0]))
        if obj is not None:
            yield k.kfree(obj)
    elif ins.op == "deref":
        obj = yield k.load(_slot(sh, a[0]))
        if obj is not None:
            yield k.store(obj.val, a[1])
    elif ins.op == "choose":
        value = yield k.choose(*range(a[1]), label="v")
        yield k.store(_cell(sh, a[0]), value)
    elif ins.op == "bug_on":
        value = yield k.load(_cell(sh, a[0]))
        k.BUG_ON(value == a[1], f"c{a[0]} == {a[1]}")
    else:
        raise ValueError(f"unknown instruction {ins!r}")
    return reg


# --------------------------------------------------------------- strategy


def programs(
    min_threads: int = 2,
    max_threads: int = 4,
    max_instructions: int = 8,
    max_interleavings: int = 400,
    invariants: bool = True,
) -> SearchStrategy[Program]:
    """A hypothesis strategy of :class:`Program` values.

    Threads are cut from the end until the program has at most
    ``max_interleavings`` schedules (counted without reduction), so that
    the naive explorer can serve as the oracle for every example.
    """
    from hypothesis import strategies as st

    instr = _instructions(st)

    @st.composite
    def build(draw: DrawFn) -> Program:
        n = draw(st.integers(min_threads, max_threads))
        threads = [draw(st.lists(instr, min_size=1, max_size=max_instructions)) for _ in range(n)]
        inv = None
        if invariants and draw(st.booleans()):
            small = st.integers(0, 2)
            inv = (draw(small), draw(small), draw(st.integers(1, 4)))
        prog = Program(tuple(map(tuple, threads)), draw(st.integers(0, 3)), inv)
        return _fit(prog, max_interleavings)

    strategy: SearchStrategy[Program] = build()
    return strategy


def _instructions(st: Any) -> SearchStrategy[Instr]:
    """Every instruction of :func:`programs`, as one strategy."""
    small = st.integers(0, 2)
    simple = st.one_of(
        st.builds(lambda c: Instr("load", (c,)), small),
        st.builds(lambda c, v: Instr("store", (c, v)), small, st.integers(-1, 2)),
        st.builds(lambda c, o, n: Instr("cmpxchg", (c, o, n)), small, small, small),
        st.builds(lambda c, v: Instr("xchg", (c, v)), small, small),
        st.builds(lambda c: Instr("inc", (c,)), small),
        st.builds(lambda c, d: Instr("add_return", (c, d)), small, st.integers(-1, 1)),
        st.builds(lambda c: Instr("inc_not_zero", (c,)), small),
    )
    other = st.one_of(
        st.builds(lambda e: Instr("list_add", (e,)), st.integers(0, 1)),
        st.builds(lambda e: Instr("list_del", (e,)), st.integers(0, 1)),
        st.just(Instr("list_empty")),
        st.builds(lambda p: Instr("alloc", (p,)), st.integers(0, 1)),
        st.builds(lambda p: Instr("free", (p,)), st.integers(0, 1)),
        st.builds(lambda p, v: Instr("deref", (p, v)), st.integers(0, 1), small),
        st.builds(lambda c, n: Instr("choose", (c, n)), small, st.integers(2, 3)),
        st.builds(lambda c, v: Instr("bug_on", (c, v)), small, small),
    )
    locked = st.builds(
        lambda lk, body: Instr("locked", (lk,), tuple(body)),
        st.integers(0, 1),
        st.lists(simple, min_size=1, max_size=2),
    )
    instr: SearchStrategy[Instr] = st.one_of(simple, simple, other, locked)
    return instr


def _fit(prog: Program, limit: int) -> Program:
    """Drop instructions from the longest thread until the program is small enough."""
    threads = [list(t) for t in prog.threads]
    while prog.interleavings() > limit:
        longest = max(range(len(threads)), key=lambda i: (len(threads[i]), -i))
        if len(threads[longest]) <= 1:
            break
        threads[longest].pop()
        prog = replace(prog, threads=tuple(map(tuple, threads)))
    return prog


def spin_programs(
    min_threads: int = 2, max_threads: int = 3, max_interleavings: int = 300
) -> SearchStrategy[Program]:
    """Programs with spin-waits (``spin c v f``) among the simple instructions.

    Each is drawn with ``spin_retries`` 0 (the blocking wait primitives);
    :func:`as_spin_loop` gives the same program with its waits written as
    bounded retry loops, to hold the primitives to the loops they stand for.
    Spins are never inside a locked block (a loop that gives up there would
    end its thread holding the lock, which a blocked wait does not).
    """
    from hypothesis import strategies as st

    small = st.integers(0, 2)
    spin = st.builds(lambda c, v, f: Instr("spin", (c, v, f)), small, small, st.integers(0, 1))
    simple = st.one_of(
        st.builds(lambda c: Instr("load", (c,)), small),
        st.builds(lambda c, v: Instr("store", (c, v)), small, st.integers(-1, 2)),
        st.builds(lambda c, o, n: Instr("cmpxchg", (c, o, n)), small, small, small),
        st.builds(lambda c: Instr("inc", (c,)), small),
        st.builds(lambda c, v: Instr("bug_on", (c, v)), small, small),
    )
    instr = st.one_of(spin, simple, simple)

    @st.composite
    def build(draw: DrawFn) -> Program:
        n = draw(st.integers(min_threads, max_threads))
        threads = [draw(st.lists(instr, min_size=1, max_size=4)) for _ in range(n)]
        if not any(i.op == "spin" for t in threads for i in t):
            threads[0].insert(0, draw(spin))
        inv = None
        if draw(st.booleans()):
            inv = (draw(small), draw(small), draw(st.integers(1, 4)))
        prog = Program(tuple(map(tuple, threads)), draw(st.integers(0, 3)), inv)
        return _fit(prog, max_interleavings)

    strategy: SearchStrategy[Program] = build()
    return strategy


def symmetric_programs(
    max_members: int = 3, max_others: int = 1, max_instructions: int = 3,
    max_interleavings: int = 300, spin: bool = True,
) -> SearchStrategy[Program]:  # fmt: skip
    """Programs whose first 2..``max_members`` threads run one body, declared symmetric.

    Up to ``max_others`` further threads run bodies of their own. The body
    draws from every instruction of :func:`programs` (and spin-waits, with
    ``spin``; a program with one is drawn as a bounded retry loop as often as
    a blocking wait, so owned give-up notes are exercised too). Members
    share every object but the give-up note each owns.
    """
    from hypothesis import strategies as st

    small = st.integers(0, 2)
    instr = _instructions(st)
    if spin:
        waits = st.builds(lambda c, v, f: Instr("spin", (c, v, f)), small, small,
                          st.integers(0, 1))  # fmt: skip
        instr = st.one_of(instr, waits)

    @st.composite
    def build(draw: DrawFn) -> Program:
        members = draw(st.integers(2, max_members))
        body = tuple(draw(st.lists(instr, min_size=1, max_size=max_instructions)))
        others = [
            tuple(draw(st.lists(instr, min_size=1, max_size=max_instructions)))
            for _ in range(draw(st.integers(0, max_others)))
        ]
        inv = None
        if draw(st.booleans()):
            inv = (draw(small), draw(small), draw(st.integers(1, 4)))
        waits_in = any(i.op == "spin" for t in (body, *others) for i in _flat(t))
        retries = SPIN_STEPS - 1 if waits_in and draw(st.booleans()) else 0
        threads = (body,) * members + tuple(others)
        prog = Program(threads, draw(st.integers(0, 3)), inv, retries, members)
        return _fit_symmetric(prog, max_interleavings)

    strategy: SearchStrategy[Program] = build()
    return strategy


def _flat(body: Sequence[Instr]) -> list[Instr]:
    return [x for i in body for x in (i, *_flat(i.body))]


def _fit_symmetric(prog: Program, limit: int) -> Program:
    """Shorten the members' body (all alike), then the others, until small enough."""
    threads = [list(t) for t in prog.threads]
    k = prog.symmetric
    while prog.interleavings() > limit:
        longest = max(range(k, len(threads)), key=lambda i: len(threads[i]), default=None)
        if longest is not None and len(threads[longest]) > len(threads[0]):
            threads[longest].pop()
        elif len(threads[0]) > 1:
            shorter = threads[0][:-1]
            threads[:k] = [list(shorter) for _ in range(k)]
        elif longest is not None and len(threads[longest]) > 1:
            threads[longest].pop()
        elif len(threads) > k:
            threads.pop()
        else:
            break
        prog = replace(prog, threads=tuple(map(tuple, threads)))
    body = tuple(threads[0])
    return replace(prog, threads=(body,) * k + tuple(map(tuple, threads[k:])))


def as_spin_loop(program: Program, retries: int = SPIN_STEPS - 1) -> Program:
    """The same program with every ``spin`` a loop of at most ``retries`` loads."""
    return replace(program, spin_retries=retries)
