"""The syntax tree of a C litmus test."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Num:
    value: int
    line: int


@dataclass(frozen=True)
class Var:
    name: str
    line: int


@dataclass(frozen=True)
class Deref:
    """``*e``: the variable e points to (a plain access when read or written)."""

    ptr: Expr
    line: int


@dataclass(frozen=True)
class AddrOf:
    """``&x``: the address of shared variable x."""

    name: str
    line: int


@dataclass(frozen=True)
class Unary:
    op: str
    arg: Expr
    line: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Expr
    right: Expr
    line: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    line: int


Expr = Num | Var | Deref | AddrOf | Unary | Binary | Call


@dataclass(frozen=True)
class Decl:
    name: str
    init: Expr | None
    line: int


@dataclass(frozen=True)
class Assign:
    target: Var | Deref
    value: Expr
    line: int


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr
    line: int


@dataclass(frozen=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    line: int


Stmt = Decl | Assign | ExprStmt | If


@dataclass(frozen=True)
class Thread:
    """``Pn(params) { body }``."""

    tid: int
    params: tuple[str, ...]
    body: tuple[Stmt, ...]
    line: int


# -- the final condition --------------------------------------------------


@dataclass(frozen=True)
class Atom:
    """``0:r0=1`` (``tid`` 0, register r0) or ``x=2`` (``tid`` None)."""

    tid: int | None
    name: str
    value: int | str  # str: the address of that location
    negated: bool
    line: int

    @property
    def key(self) -> str:
        return self.name if self.tid is None else f"{self.tid}:{self.name}"


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class Not:
    arg: Cond


@dataclass(frozen=True)
class And:
    left: Cond
    right: Cond


@dataclass(frozen=True)
class Or:
    left: Cond
    right: Cond


Cond = Atom | Const | Not | And | Or


@dataclass(frozen=True)
class Test:
    """A whole litmus test."""

    name: str
    doc: str
    init: dict[str, int | str]  # a str value is an address
    locks: frozenset[str]
    reg_init: dict[str, int | str]  # "0:r1" -> value
    threads: tuple[Thread, ...]
    quantifier: str  # "exists", "~exists" or "forall"
    cond: Cond
    filter: Cond | None = None
    locations: tuple[str, ...] = field(default=())
    #: the "Result:" line of the doc comment: Always, Sometimes, Never, or
    #: DEADLOCK (no execution gets to the end, or past the filter)
    expected: str | None = None
    expected_race: bool | None = None  # "Result: ... DATARACE"
    path: str = ""
