"""One thread's possible event sequences, given what its reads may return.

Under a weak memory model a read may return any value some write to its
location can provide, so the events a thread performs (and whether it takes
an ``if``) depend on values chosen before any rf edge is known.  This module
runs a thread program once per choice of read values (depth first,
re-running the generator from the start with the choices so far, as the SC
explorers replay schedules) and records each complete run as a
:class:`Trace`: its events with their values, its rmw pairs and its
dependencies, all in thread-local indices.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctxcheck.errors import CtxcheckError
from ctxcheck.lkmm.events import Event, Kind, Value
from ctxcheck.lkmm.ops import (
    AnyOp,
    Fence,
    IsLocked,
    Load,
    Lock,
    Rmw,
    SrcuLock,
    SrcuUnlock,
    Store,
    Unlock,
)

ThreadProgram = Callable[[], Generator[AnyOp, Value | None, Any]]


class ThreadError(CtxcheckError):
    """A thread program did something the memory model cannot run."""


@dataclass
class Trace:
    """One complete run of one thread (thread-local event indices)."""

    events: list[Event] = field(default_factory=list)
    rmw: list[tuple[int, int]] = field(default_factory=list)
    addr: list[tuple[int, int]] = field(default_factory=list)
    data: list[tuple[int, int]] = field(default_factory=list)
    ctrl: list[tuple[int, int]] = field(default_factory=list)
    result: Any = None


@dataclass
class _Run:
    """State of one replay: the trace so far and where each op's read is."""

    tid: int
    trace: Trace = field(default_factory=Trace)
    read_of_op: dict[int, int] = field(default_factory=dict)

    def add(
        self,
        op: AnyOp,
        kind: Kind,
        tag: str,
        loc: str | None,
        value: Value | None,
        *,
        rmw: bool = False,
    ) -> int:
        idx = len(self.trace.events)
        self.trace.events.append(
            Event(self.tid, idx, kind, tag, loc, value, rmw=rmw, label=op.label, line=op.line)
        )
        self._deps(self.trace.addr, op.addr, idx)
        self._deps(self.trace.ctrl, op.ctrl, idx)
        return idx

    def _deps(self, out: list[tuple[int, int]], ops: frozenset[int], idx: int) -> None:
        for n in sorted(ops):
            src = self.read_of_op.get(n)
            if src is None:
                raise ThreadError(
                    f"P{self.tid}: a dependency names operation {n}, which read nothing"
                )
            out.append((src, idx))


def candidates(op: AnyOp, domain: Mapping[str, frozenset[Value]]) -> list[Value]:
    """The values a reading op may be given: None-free, in a stable order."""
    if isinstance(op, Lock):
        return [0, 1] if op.trylock else [0]
    if isinstance(op, IsLocked):
        return [0, 1]
    if isinstance(op, Load | Rmw | SrcuLock):
        if op.loc not in domain:
            raise ThreadError(f"{op.label or op}: unknown shared location {op.loc!r}")
        return sorted(domain[op.loc], key=_order)
    return []


def _order(v: Value) -> tuple[int, str, int]:
    return (1, v.name, 0) if not isinstance(v, int) else (0, "", v)


def _perform(run: _Run, op_no: int, op: AnyOp, value: Value | None) -> Value | None:
    """Add op's events to the run; return what the op returns to the thread."""
    if isinstance(op, Store):
        w = run.add(op, Kind.W, op.tag, op.loc, op.value)
        run._deps(run.trace.data, op.data, w)
        return None
    if isinstance(op, Fence):
        run.add(op, Kind.F, op.tag, op.loc, None)
        return None
    if isinstance(op, Unlock):
        run.add(op, Kind.W, "ul", op.loc, 0)
        return None
    if isinstance(op, SrcuUnlock):
        w = run.add(op, Kind.W, "srcu-unlock", op.loc, op.value)
        run._deps(run.trace.data, op.data, w)
        return None
    assert value is not None
    if isinstance(op, Load):
        run.read_of_op[op_no] = run.add(op, Kind.R, op.tag, op.loc, value)
        return value
    if isinstance(op, SrcuLock):
        run.read_of_op[op_no] = run.add(op, Kind.R, "srcu-lock", op.loc, value)
        return value
    if isinstance(op, IsLocked):
        run.read_of_op[op_no] = run.add(op, Kind.R, "rl" if value else "ru", op.loc, value)
        return value
    if isinstance(op, Lock):
        return _lock(run, op_no, op, value)
    assert isinstance(op, Rmw)
    return _rmw(run, op_no, op, value)


def _lock(run: _Run, op_no: int, op: Lock, value: Value) -> Value:
    if value != 0:  # a failed spin_trylock: LF, a read of the held lock
        run.read_of_op[op_no] = run.add(op, Kind.R, "lf", op.loc, value)
        return 0
    r = run.add(op, Kind.R, "lkr", op.loc, 0, rmw=True)
    w = run.add(op, Kind.W, "lkw", op.loc, 1, rmw=True)
    run.trace.rmw.append((r, w))
    run.read_of_op[op_no] = r
    return 1 if op.trylock else 0


#: an RMW's order -> the tags of its read and its write (``mb`` adds fences)
RMW_TAGS = {
    "mb": ("once", "once"),
    "acquire": ("acquire", "once"),
    "release": ("once", "release"),
    "once": ("once", "once"),
    "noreturn": ("noreturn", "once"),
}


def _rmw(run: _Run, op_no: int, op: Rmw, value: Value) -> Value:
    new = op.update(value)
    if new is None:  # failed conditional RMW: a relaxed read, no ordering of
        # its own, but still an event of an RMW instruction (RMW in the cat),
        # which smp_mb__before_atomic() / smp_mb__after_atomic() make full
        run.read_of_op[op_no] = run.add(op, Kind.R, "once", op.loc, value, rmw=True)
        return value
    rtag, wtag = RMW_TAGS[op.order]
    if op.order == "mb":
        run.add(op, Kind.F, "mb", None, None)
    r = run.add(op, Kind.R, rtag, op.loc, value, rmw=True)
    w = run.add(op, Kind.W, wtag, op.loc, new, rmw=True)
    run._deps(run.trace.data, op.data, w)
    run.trace.rmw.append((r, w))
    run.read_of_op[op_no] = r
    if op.order == "mb":
        run.add(op, Kind.F, "mb", None, None)
    return value


def traces(
    tid: int,
    program: ThreadProgram,
    domain: Mapping[str, frozenset[Value]],
    *,
    max_ops: int = 10_000,
) -> list[Trace]:
    """Every run of ``program`` with each read given each value of its domain."""
    out: list[Trace] = []
    stack: list[list[Value]] = [[]]
    while stack:
        prefix = stack.pop()
        done, branch = _replay(tid, program, domain, prefix, max_ops)
        if done is not None:
            out.append(done)
        else:
            stack.extend([*prefix, v] for v in reversed(branch))
    return out


def _replay(
    tid: int,
    program: ThreadProgram,
    domain: Mapping[str, frozenset[Value]],
    prefix: list[Value],
    max_ops: int,
) -> tuple[Trace | None, list[Value]]:
    """Run with the read values of ``prefix``; stop at the first read past it."""
    run = _Run(tid)
    gen = program()
    reply: Value | None = None
    used = 0
    try:
        op = gen.send(None)
        for op_no in range(max_ops):
            choices = candidates(op, domain)
            value: Value | None = None
            if choices:
                if used == len(prefix):
                    return None, choices
                value = prefix[used]
                used += 1
            reply = _perform(run, op_no, op, value)
            op = gen.send(reply)
        raise ThreadError(f"P{tid} ran more than {max_ops} operations: an unbounded loop?")
    except StopIteration as stop:
        run.trace.result = stop.value
        return run.trace, []
