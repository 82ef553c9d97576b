"""Run a litmus thread body as a ctxcheck thread program.

Each body becomes a generator that yields :mod:`ctxcheck.lkmm.ops` and
tracks, for every register value, which earlier reads it was computed from:
that is what gives each operation its address, data and control
dependencies, as herd7 derives them from the C.  A control dependency
reaches the operations inside the branches of an ``if`` whose condition
depends on a read (not the code after the ``if``).

Registers start at 0, as herd7's do; a thread's result is its registers.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TypedDict

from ctxcheck.lkmm.events import Addr, Value
from ctxcheck.lkmm.litmus.errors import LitmusError
from ctxcheck.lkmm.litmus.primitives import PRIMS, Prim
from ctxcheck.lkmm.litmus.syntax import (
    AddrOf,
    Assign,
    Binary,
    Call,
    Decl,
    Deref,
    Expr,
    ExprStmt,
    If,
    Num,
    Stmt,
    Thread,
    Unary,
    Var,
)
from ctxcheck.lkmm.ops import (
    AnyOp,
    Deps,
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
from ctxcheck.lkmm.thread import ThreadProgram

Tainted = tuple[Value, Deps]
_NONE: Tainted = (0, frozenset())


class Meta(TypedDict):
    """Dependencies and source position, shared by every op of one call."""

    addr: Deps
    ctrl: Deps
    label: str
    line: int


Gen = Generator[AnyOp, Value | None, Tainted]


def program(thread: Thread, shared: frozenset[str], reg_init: dict[str, Value]) -> ThreadProgram:
    """The thread program of ``thread`` (``shared``: the shared variables)."""

    def run() -> Generator[AnyOp, Value | None, dict[str, Value]]:
        state = _State(thread.tid, shared)
        for name, value in reg_init.items():
            state.regs[name] = (value, frozenset())
        for p in thread.params:
            state.regs[p] = (Addr(p), frozenset())
        yield from state.block(thread.body)
        return {k: v for k, (v, _) in state.regs.items() if k not in thread.params}

    return run


@dataclass
class _State:
    tid: int
    shared: frozenset[str]
    regs: dict[str, Tainted] = field(default_factory=dict)
    ctrl: list[Deps] = field(default_factory=list)
    n_ops: int = 0

    def emit(self, op: AnyOp) -> Generator[AnyOp, Value | None, tuple[Value, Deps]]:
        """Yield one op; return its reply and the deps a read result carries."""
        number = self.n_ops
        self.n_ops += 1
        reply = yield op
        return (0 if reply is None else reply), frozenset({number})

    def ctrl_deps(self) -> Deps:
        out: Deps = frozenset()
        for d in self.ctrl:
            out |= d
        return out

    # -- statements ---------------------------------------------------------

    def block(self, stmts: tuple[Stmt, ...]) -> Generator[AnyOp, Value | None, None]:
        for s in stmts:
            yield from self.stmt(s)

    def stmt(self, s: Stmt) -> Generator[AnyOp, Value | None, None]:
        if isinstance(s, Decl):
            self.regs[s.name] = (0, frozenset())
            if s.init is not None:
                self.regs[s.name] = yield from self.expr(s.init)
        elif isinstance(s, Assign):
            value = yield from self.expr(s.value)
            if isinstance(s.target, Var):
                self.regs[s.target.name] = value
            else:
                loc, adeps = yield from self.location(s.target.ptr, s.line)
                yield from self.emit(
                    Store(
                        loc,
                        value[0],
                        "plain",
                        data=value[1],
                        addr=adeps,
                        ctrl=self.ctrl_deps(),
                        label="plain store",
                        line=s.line,
                    )
                )
        elif isinstance(s, ExprStmt):
            yield from self.expr(s.expr)
        else:
            yield from self.if_stmt(s)

    def if_stmt(self, s: If) -> Generator[AnyOp, Value | None, None]:
        value, deps = yield from self.expr(s.cond)
        self.ctrl.append(deps)
        yield from self.block(s.then if _truthy(value) else s.orelse)
        self.ctrl.pop()

    # -- expressions --------------------------------------------------------

    def expr(self, e: Expr) -> Gen:
        if isinstance(e, Num):
            return e.value, frozenset()
        if isinstance(e, Var):
            return self.var(e)
        if isinstance(e, AddrOf):
            return Addr(e.name), frozenset()
        if isinstance(e, Deref):
            loc, adeps = yield from self.location(e.ptr, e.line)
            op = Load(
                loc, "plain", addr=adeps, ctrl=self.ctrl_deps(), label="plain load", line=e.line
            )
            return (yield from self.emit(op))
        if isinstance(e, Unary):
            v, d = yield from self.expr(e.arg)
            return _unary(e.op, v, e.line), d
        if isinstance(e, Binary):
            lv, ld = yield from self.expr(e.left)
            rv, rd = yield from self.expr(e.right)
            return _binary(e.op, lv, rv, e.line), ld | rd
        return (yield from self.call(e))

    def var(self, e: Var) -> Tainted:
        if e.name in self.regs:
            return self.regs[e.name]
        if e.name in self.shared:
            return Addr(e.name), frozenset()
        raise LitmusError(
            f"P{self.tid}: {e.name} is neither a register nor a shared variable", line=e.line
        )

    def location(self, e: Expr, line: int) -> Generator[AnyOp, Value | None, tuple[str, Deps]]:
        """The shared variable an argument designates, and its address deps."""
        ptr = e.ptr if isinstance(e, Deref) else e
        value, deps = yield from self.expr(ptr)
        if not isinstance(value, Addr):
            raise LitmusError(
                f"P{self.tid}: dereference of {value}, which is not an address", line=line
            )
        return value.name, deps

    def call(self, e: Call) -> Gen:
        prim = PRIMS[e.name]
        locs: list[tuple[str, Deps]] = []
        vals: list[Tainted] = []
        for kind, arg in zip(prim.args, e.args, strict=True):
            if kind == "L":
                locs.append((yield from self.location(arg, e.line)))
            else:
                vals.append((yield from self.expr(arg)))
        label = f"{e.name}()"
        return (yield from _Call(self, prim, e, locs, vals, label).run())


@dataclass
class _Call:
    """One primitive call with its evaluated arguments."""

    st: _State
    prim: Prim
    e: Call
    locs: list[tuple[str, Deps]]
    vals: list[Tainted]
    label: str

    def meta(self, adeps: Deps = frozenset()) -> Meta:
        """The fields every op of this call shares."""
        return Meta(addr=adeps, ctrl=self.st.ctrl_deps(), label=self.label, line=self.e.line)

    def run(self) -> Gen:
        what, p = self.prim.what, self.prim
        if what == "fence":
            yield from self.st.emit(Fence(p.tag, **self.meta()))
            return _NONE
        loc, adeps = self.locs[0]
        m = self.meta(adeps)
        if what == "load":
            return (yield from self.st.emit(Load(loc, p.tag, **m)))
        if what in ("store", "store-mb", "srcu-unlock"):
            return (yield from self.store(loc, m))
        op = self.simple(loc, m)
        if op is not None:
            value, deps = yield from self.st.emit(op)
            return (value, deps) if what in ("trylock", "islocked", "srcu-lock") else _NONE
        return (yield from self.rmw(loc, m))

    def store(self, loc: str, m: Meta) -> Gen:
        value, vdeps = self.vals[0]
        op: AnyOp
        if self.prim.what == "srcu-unlock":
            op = SrcuUnlock(loc, value, data=vdeps, **m)
        else:
            op = Store(loc, value, self.prim.tag, data=vdeps, **m)
        yield from self.st.emit(op)
        if self.prim.what == "store-mb":
            yield from self.st.emit(Fence("mb", **self.meta()))
        return _NONE

    def simple(self, loc: str, m: Meta) -> AnyOp | None:
        """The op of a lock or SRCU primitive, or None for an RMW."""
        what = self.prim.what
        if what in ("lock", "trylock"):
            return Lock(loc, what == "trylock", **m)
        if what == "unlock":
            return Unlock(loc, **m)
        if what == "islocked":
            return IsLocked(loc, **m)
        if what == "srcu-lock":
            return SrcuLock(loc, **m)
        if what == "sync-srcu":
            return Fence("sync-srcu", loc, **m)
        return None

    def add_unless(self) -> Update:
        """atomic_add_unless(v, a, u) adds a unless v is u; atomic_inc_not_zero(v)
        adds 1 unless v is 0."""
        amount, unless = (1, 0) if self.prim.amount else (self.vals[0][0], self.vals[1][0])
        if not isinstance(amount, int):
            raise LitmusError(f"{self.e.name}: the amount must be a number", line=self.e.line)
        add = _arith("+", amount, self.e.line)
        return lambda old: None if old == unless else add(old)

    def rmw(self, loc: str, m: Meta) -> Gen:
        p = self.prim
        data: Deps = frozenset()
        for _, d in self.vals:
            data |= d
        if p.what == "xchg":
            new = self.vals[0][0]
            update = _const(new)
        elif p.what == "cmpxchg":
            update = _cas(self.vals[0][0], self.vals[1][0])
        elif p.what == "add-unless":
            update = self.add_unless()
        else:
            amount = p.amount if p.amount is not None else self.vals[0][0]
            if not isinstance(amount, int):
                raise LitmusError(f"{self.e.name}: the amount must be a number", line=self.e.line)
            update = _arith(p.arith, amount, self.e.line)
        op = Rmw(loc, update, p.order, data=data, **m)
        old, deps = yield from self.st.emit(op)
        if p.what == "add-unless":
            return int(update(old) is not None), deps
        if p.what != "op" or p.returns == "old":
            return old, deps
        new_value = update(old)
        assert isinstance(new_value, int)
        result = {
            "none": 0,
            "new": new_value,
            "zero": int(new_value == 0),
            "negative": int(new_value < 0),
        }[p.returns]
        return result, deps


Update = Callable[[Value], Value | None]


def _const(new: Value) -> Update:
    return lambda old: new


def _cas(expected: Value, new: Value) -> Update:
    return lambda old: new if old == expected else None


def _arith(op: str, amount: int, line: int) -> Update:
    def update(old: Value) -> Value:
        if not isinstance(old, int):
            raise LitmusError(f"arithmetic on the address {old}", line=line)
        return old + amount if op == "+" else old - amount

    return update


def _truthy(v: Value) -> bool:
    return isinstance(v, Addr) or v != 0


def _unary(op: str, v: Value, line: int) -> Value:
    if op == "!":
        return int(not _truthy(v))
    if not isinstance(v, int):
        raise LitmusError(f"'{op}' applied to the address {v}", line=line)
    return -v if op == "-" else ~v


def _binary(op: str, a: Value, b: Value, line: int) -> Value:
    if op in ("==", "!="):
        return int((a == b) == (op == "=="))
    if op == "&&":
        return int(_truthy(a) and _truthy(b))
    if op == "||":
        return int(_truthy(a) or _truthy(b))
    if not isinstance(a, int) or not isinstance(b, int):
        raise LitmusError(f"'{op}' applied to an address", line=line)
    if op in ("/", "%") and b == 0:
        raise LitmusError("division by zero", line=line)
    table = {
        "+": a + b,
        "-": a - b,
        "*": a * b,
        "&": a & b,
        "|": a | b,
        "^": a ^ b,
        "<<": a << b if 0 <= b < 64 else 0,
        ">>": a >> b if 0 <= b < 64 else 0,
        "<": int(a < b),
        ">": int(a > b),
        "<=": int(a <= b),
        ">=": int(a >= b),
    }
    if op in ("/", "%"):
        return a // b if op == "/" else a % b
    return table[op]
