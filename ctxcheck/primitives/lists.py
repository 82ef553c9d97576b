"""Kernel lists: :class:`ListHead` and ``list_add``/``list_del`` and their kin.

A ``struct list_head`` is a list head or an entry embedded in a struct. The
operations are one step each, as they run under the list's lock, and catch
what corrupts a list: ``list_del`` of an entry already deleted (its pointers
hold ``LIST_POISON1``/``LIST_POISON2``), ``list_add`` of an entry already on
a list, neighbours that no longer point back. A list step writes the nodes
whose pointers it changes, so its footprint depends on where the entry sits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ctxcheck.errors import PropertyViolated
from ctxcheck.primitives.base import (
    LIST_INTEGRITY,
    READ,
    WRITE,
    Canon,
    Footprint,
    Op,
    SharedObject,
    StepMachine,
    StepThread,
    _Poison,
    access,
    check_alive,
    describe,
)
from ctxcheck.primitives.heap import FieldSpec

LIST_POISON1 = _Poison("LIST_POISON1")
LIST_POISON2 = _Poison("LIST_POISON2")


class ListHead(SharedObject):
    """A ``struct list_head``: a list head or an entry embedded in a struct.

    ``next``/``prev`` are other nodes, a poison value after ``list_del``, or
    None before ``INIT_LIST_HEAD`` (an uninitialised entry).
    """

    __slots__ = ("_next", "_prev")

    def __init__(self, machine: StepMachine, name: str, owner: Any = None) -> None:
        super().__init__(machine, name, owner)
        self._next: ListHead | _Poison | None = self
        self._prev: ListHead | _Poison | None = self

    @property
    def next(self) -> ListHead | _Poison | None:
        """``->next`` (a read an invariant makes is noted)."""
        self.noted()
        return self._next

    @next.setter
    def next(self, node: ListHead | _Poison | None) -> None:
        self._next = node

    @property
    def prev(self) -> ListHead | _Poison | None:
        """``->prev`` (a read an invariant makes is noted)."""
        self.noted()
        return self._prev

    @prev.setter
    def prev(self, node: ListHead | _Poison | None) -> None:
        self._prev = node

    def is_linked(self) -> bool:
        """True while the node sits between two other nodes of a list."""
        nxt = self.next
        return isinstance(nxt, ListHead) and nxt is not self

    def entries(self) -> Iterator[ListHead]:
        """Walk the list from this head (for properties; not a model step)."""
        node = self.next
        seen = 0
        while isinstance(node, ListHead) and node is not self:
            yield node
            node = node.next
            seen += 1
            if seen > 10_000:  # a corrupted, cyclic list: stop, do not hang
                return

    def canonical(self, canon: Canon) -> Any:
        return (canon.value(self._next), canon.value(self._prev))


def list_head() -> Any:
    """An embedded ``struct list_head``, initialised empty (self-linked)."""
    return FieldSpec(ListHead)


def _node(n: ListHead | _Poison | None, entry: ListHead, what: str) -> ListHead:
    if n is LIST_POISON1 or n is LIST_POISON2:
        raise PropertyViolated(
            LIST_INTEGRITY,
            f"{what} of {entry.name}, which was already deleted (its pointers hold {describe(n)})",
        )
    if not isinstance(n, ListHead):
        raise PropertyViolated(
            LIST_INTEGRITY, f"{what} of {entry.name}, which was never initialised"
        )
    check_alive(n, what)
    return n


class ListOp(Op):
    """A list primitive; one step, as it runs under the list's lock."""

    __slots__ = ("entry",)

    def __init__(self, entry: ListHead) -> None:
        if not isinstance(entry, ListHead):
            raise TypeError(f"{self.name} needs a ListHead, got {entry!r}")
        self.entry = entry

    def target(self) -> SharedObject:
        return self.entry

    def nodes(self) -> list[ListHead]:
        """The nodes whose pointers the step reads or writes."""
        return [self.entry]

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        fp: list[tuple[int, int]] = []
        for node in self.nodes():
            fp.extend(access(node, WRITE))
        return tuple(fp)

    def _unlink(self, what: str) -> None:
        entry = self.entry
        check_alive(entry, what)
        prev = _node(entry._prev, entry, what)
        nxt = _node(entry._next, entry, what)
        if prev._next is not entry or nxt._prev is not entry:
            raise PropertyViolated(
                LIST_INTEGRITY, f"{what} of {entry.name}: list corrupted around it"
            )
        nxt._prev = prev
        prev._next = nxt


class _DelOp(ListOp):
    __slots__ = ()

    def nodes(self) -> list[ListHead]:
        e = self.entry
        return [n for n in (e, e._prev, e._next) if isinstance(n, ListHead)]


class ListDel(_DelOp):
    """``list_del(entry)``: unlink and poison both pointers."""

    __slots__ = ()
    name = "list_del"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        self._unlink(self.name)
        self.entry._next = LIST_POISON1
        self.entry._prev = LIST_POISON2


class ListDelRcu(_DelOp):
    """``list_del_rcu(entry)``: unlink, poison ``prev``, keep ``next`` for readers."""

    __slots__ = ()
    name = "list_del_rcu"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        self._unlink(self.name)
        self.entry._prev = LIST_POISON2


class ListDelInit(_DelOp):
    """``list_del_init(entry)``: unlink and leave the entry self-linked (empty)."""

    __slots__ = ()
    name = "list_del_init"

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        self._unlink(self.name)
        self.entry._next = self.entry
        self.entry._prev = self.entry


class ListAdd(ListOp):
    """``list_add(new, head)`` (also ``list_add_rcu``): insert after head."""

    __slots__ = ("head",)
    name = "list_add"

    def __init__(self, new: ListHead, head: ListHead) -> None:
        super().__init__(new)
        self.head = head

    def nodes(self) -> list[ListHead]:
        nxt = self.head._next
        return [self.entry, self.head] + ([nxt] if isinstance(nxt, ListHead) else [])

    def _link(self, prev: ListHead, nxt: ListHead) -> None:
        new = self.entry
        check_alive(new, self.name)
        if isinstance(new._next, ListHead) and new._next is not new:
            raise PropertyViolated(
                LIST_INTEGRITY, f"{self.name} of {new.name}, which is already on a list"
            )
        nxt._prev = new
        new._next = nxt
        new._prev = prev
        prev._next = new

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        head = self.head
        self._link(head, _node(head._next, head, self.name))

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.entry.name}, {self.head.name})"


class ListAddRcu(ListAdd):
    """``list_add_rcu(new, head)``."""

    __slots__ = ()
    name = "list_add_rcu"


class ListAddTail(ListAdd):
    """``list_add_tail(new, head)``: insert before head (at the tail)."""

    __slots__ = ()
    name = "list_add_tail"

    def nodes(self) -> list[ListHead]:
        prev = self.head._prev
        return [self.entry, self.head] + ([prev] if isinstance(prev, ListHead) else [])

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        head = self.head
        self._link(_node(head._prev, head, self.name), head)


class ListMoveTail(ListAdd):
    """``list_move_tail(entry, head)``: unlink and add at the tail of head."""

    __slots__ = ()
    name = "list_move_tail"

    def nodes(self) -> list[ListHead]:
        e, h = self.entry, self.head
        return [n for n in (e, e._prev, e._next, h, h._prev) if isinstance(n, ListHead)]

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        self._unlink(self.name)
        self.entry._next = self.entry._prev = self.entry
        head = self.head
        self._link(_node(head._prev, head, self.name), head)


class ListEmpty(ListOp):
    """``list_empty(head)``: true when head points to itself."""

    __slots__ = ()
    name = "list_empty"
    writes = False

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return access(self.entry, READ)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        check_alive(self.entry, self.name)
        return self.entry._next is self.entry


class ListNext(ListOp):
    """Read ``node->next`` while walking a list; returns the next node."""

    __slots__ = ()
    name = "list_next"
    writes = False

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return access(self.entry, READ)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        check_alive(self.entry, self.name)
        nxt = self.entry._next
        if not isinstance(nxt, ListHead):
            raise PropertyViolated(
                LIST_INTEGRITY, f"list walk reached {self.entry.name}->next = {describe(nxt)}"
            )
        return nxt
