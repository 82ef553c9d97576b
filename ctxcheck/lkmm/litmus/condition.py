"""The final condition of a litmus test, evaluated on a final state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ctxcheck.lkmm.events import Addr, Value
from ctxcheck.lkmm.litmus.syntax import And, Atom, Cond, Const, Not, Or


def holds(cond: Cond, state: Mapping[str, Value]) -> bool:
    """Whether ``cond`` holds in ``state`` (keys ``x`` and ``0:r0``)."""
    if isinstance(cond, Const):
        return cond.value
    if isinstance(cond, Not):
        return not holds(cond.arg, state)
    if isinstance(cond, And):
        return holds(cond.left, state) and holds(cond.right, state)
    if isinstance(cond, Or):
        return holds(cond.left, state) or holds(cond.right, state)
    want: Value = Addr(cond.value) if isinstance(cond.value, str) else cond.value
    return (state.get(cond.key, 0) == want) != cond.negated


def atoms(cond: Cond) -> Iterator[Atom]:
    """The atoms of ``cond``, left to right."""
    if isinstance(cond, Atom):
        yield cond
    elif isinstance(cond, Not):
        yield from atoms(cond.arg)
    elif isinstance(cond, And | Or):
        yield from atoms(cond.left)
        yield from atoms(cond.right)


def show(cond: Cond) -> str:
    """The condition as the litmus format writes it."""
    if isinstance(cond, Const):
        return "true" if cond.value else "false"
    if isinstance(cond, Not):
        return f"~{show(cond.arg)}"
    if isinstance(cond, And):
        return f"({show(cond.left)} /\\ {show(cond.right)})"
    if isinstance(cond, Or):
        return f"({show(cond.left)} \\/ {show(cond.right)})"
    return f"{cond.key}{'!=' if cond.negated else '='}{cond.value}"
