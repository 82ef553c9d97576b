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

from collections.abc import Generator
from dataclasses import dataclass, field

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
Gen = Generator[AnyOp, Value, Tainted]


def program(thread: Thread, shared: frozenset[str],
            reg_init: dict[str, Value]) -> ThreadProgram:
    """The thread program of ``thread`` (``shared``: the shared variables)."""

    def run() -> Generator[AnyOp, Value, dict[str, Value]]:
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

    def emit(self, op: AnyOp) -> Generator[AnyOp, Value, tuple[Value, Deps]]:
        """Yield one op; return its reply and the deps a read result carries."""
        number = self.n_ops
        self.n_ops += 1
        reply = yield op
        return reply, frozenset({number})

    def ctrl_deps(self) -> Deps:
        out: Deps = frozenset()
        for d in self.ctrl:
            out |= d
        return out

    # -- statements ---------------------------------------------------------

    def block(self, stmts: tuple[Stmt, ...]) -> Generator[AnyOp, Value, None]:
        for s in stmts:
            yield from self.stmt(s)

    def stmt(self, s: Stmt) -> Generator[AnyOp, Value, None]:
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
                yield from self.emit(Store(loc, value[0], "plain", data=value[1], addr=adeps,
                                           ctrl=self.ctrl_deps(), label="plain store", line=s.line))
        elif isinstance(s, ExprStmt):
            yield from self.expr(s.expr)
        else:
            yield from self.if_stmt(s)

    def if_stmt(self, s: If) -> Generator[AnyOp, Value, None]:
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
            op = Load(loc, "plain", addr=adeps, ctrl=self.ctrl_deps(), label="plain load",
                      line=e.line)
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
        raise LitmusError(f"P{self.tid}: {e.name} is neither a register nor a shared variable",
                          line=e.line)

    def location(self, e: Expr, line: int) -> Generator[AnyOp, Value, tuple[str, Deps]]:
        """The shared variable an argument designates, and its address deps."""
        ptr = e.ptr if isinstance(e, Deref) else e
        value, deps = yield from self.expr(ptr)
        if not isinstance(value, Addr):
            raise LitmusError(f"P{self.tid}: dereference of {value}, which is not an address",
                              line=line)
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

    def meta(self, adeps: Deps = frozenset()) -> dict[str, object]:
        return {"addr": adeps, "ctrl": self.st.ctrl_deps(), "label": self.label,
                "line": self.e.line}

    def run(self) -> Gen:
        what, p = self.prim.what, self.prim
        none: Tainted = (0, frozenset())
        if what == "fence":
            yield from self.st.emit(Fence(p.tag, **self.meta()))  # type: ignore[arg-type]
            return none
        loc, adeps = self.locs[0]
        m = self.meta(adeps)
        if what == "load":
            return (yield from self.st.emit(Load(loc, p.tag, **m)))  # type: ignore[arg-type]
        if what in ("store", "store-mb", "srcu-unlock"):
            value, vdeps = self.vals[0]
            op: AnyOp = (
                SrcuUnlock(loc, value, data=vdeps, **m)  # type: ignore[arg-type]
                if what == "srcu-unlock"
                else Store(loc, value, p.tag, data=vdeps, **m)  # type: ignore[arg-type]
            )
            yield from self.st.emit(op)
            if what == "store-mb":
                yield from self.st.emit(Fence("mb", **self.meta()))  # type: ignore[arg-type]
            return none
        simple = {"lock": Lock(loc, **m), "trylock": Lock(loc, True, **m),  # type: ignore[arg-type]
                  "unlock": Unlock(loc, **m), "islocked": IsLocked(loc, **m),  # type: ignore[arg-type]
                  "srcu-lock": SrcuLock(loc, **m),  # type: ignore[arg-type]
                  "sync-srcu": Fence("sync-srcu", loc, **m)}  # type: ignore[arg-type]
        if what in simple:
            value, deps = yield from self.st.emit(simple[what])
            return (value, deps) if what in ("trylock", "islocked", "srcu-lock") else none
        return (yield from self.rmw(loc, m))

    def rmw(self, loc: str, m: dict[str, object]) -> Gen:
        p = self.prim
        data: Deps = frozenset()
        for _, d in self.vals:
            data |= d
        if p.what == "xchg":
            new = self.vals[0][0]
            update = _const(new)
        elif p.what == "cmpxchg":
            update = _cas(self.vals[0][0], self.vals[1][0])
        else:
            amount = p.amount if p.amount is not None else self.vals[0][0]
            if not isinstance(amount, int):
                raise LitmusError(f"{self.e.name}: the amount must be a number", line=self.e.line)
            update = _arith(p.arith, amount, self.e.line)
        op = Rmw(loc, update, p.order, data=data, **m)  # type: ignore[arg-type]
        old, deps = yield from self.st.emit(op)
        if p.what != "op" or p.returns == "old":
            return old, deps
        new_value = update(old)
        assert isinstance(new_value, int)
        result = {"none": 0, "new": new_value, "zero": int(new_value == 0),
                  "negative": int(new_value < 0)}[p.returns]
        return result, deps


def _const(new: Value):  # type: ignore[no-untyped-def]
    return lambda old: new


def _cas(expected: Value, new: Value):  # type: ignore[no-untyped-def]
    return lambda old: new if old == expected else None


def _arith(op: str, amount: int, line: int):  # type: ignore[no-untyped-def]
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
        "+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b,
        "<<": a << b if 0 <= b < 64 else 0, ">>": a >> b if 0 <= b < 64 else 0,
        "<": int(a < b), ">": int(a > b), "<=": int(a <= b), ">=": int(a >= b),
    }
    if op in ("/", "%"):
        return a // b if op == "/" else a % b
    return table[op]
