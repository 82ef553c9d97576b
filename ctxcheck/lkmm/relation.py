"""Binary relations over the events of one execution graph, as bit sets.

The consistency predicate of the Linux kernel memory model is written as
relational algebra (sequence ``;``, union, intersection, difference, inverse,
closures, ``[S]`` restrictions).  Execution graphs of litmus tests and small
models have tens of events, so a relation is stored as one Python int per
event (bit ``j`` of row ``i`` set when ``(i, j)`` is in the relation): every
operator is a handful of integer operations per row, which keeps the check of
one candidate execution in the tens of microseconds.

A *set* of events is a plain int bit mask (bit ``i`` for event ``i``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def bits(mask: int) -> Iterator[int]:
    """The indices of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Rel:
    """A relation over events ``0 .. n-1``; immutable once built."""

    __slots__ = ("n", "rows")

    def __init__(self, n: int, rows: list[int] | None = None) -> None:
        self.n = n
        self.rows = rows if rows is not None else [0] * n

    # -- construction -------------------------------------------------------

    @classmethod
    def of_pairs(cls, n: int, pairs: Iterable[tuple[int, int]]) -> Rel:
        """The relation holding exactly ``pairs``."""
        rows = [0] * n
        for a, b in pairs:
            rows[a] |= 1 << b
        return cls(n, rows)

    @classmethod
    def ident(cls, n: int, mask: int | None = None) -> Rel:
        """``[S]``: the identity on the events of ``mask`` (all when None)."""
        full = (1 << n) - 1 if mask is None else mask
        return cls(n, [(1 << i) if full >> i & 1 else 0 for i in range(n)])

    @classmethod
    def product(cls, n: int, left: int, right: int) -> Rel:
        """``S * T``: every event of ``left`` to every event of ``right``."""
        return cls(n, [right if left >> i & 1 else 0 for i in range(n)])

    # -- algebra ------------------------------------------------------------

    def __or__(self, other: Rel) -> Rel:
        return Rel(self.n, [a | b for a, b in zip(self.rows, other.rows, strict=True)])

    def __and__(self, other: Rel) -> Rel:
        return Rel(self.n, [a & b for a, b in zip(self.rows, other.rows, strict=True)])

    def __sub__(self, other: Rel) -> Rel:
        return Rel(self.n, [a & ~b for a, b in zip(self.rows, other.rows, strict=True)])

    def seq(self, other: Rel) -> Rel:
        """``self ; other``: a step of self followed by a step of other."""
        out = []
        orows = other.rows
        for row in self.rows:
            acc = 0
            for j in bits(row):
                acc |= orows[j]
            out.append(acc)
        return Rel(self.n, out)

    def inv(self) -> Rel:
        """``r^-1``."""
        rows = [0] * self.n
        for i, row in enumerate(self.rows):
            for j in bits(row):
                rows[j] |= 1 << i
        return Rel(self.n, rows)

    def dom(self, mask: int) -> Rel:
        """``[S] ; r``: only the pairs starting in ``mask``."""
        return Rel(self.n, [row if mask >> i & 1 else 0 for i, row in enumerate(self.rows)])

    def ran(self, mask: int) -> Rel:
        """``r ; [S]``: only the pairs ending in ``mask``."""
        return Rel(self.n, [row & mask for row in self.rows])

    def restrict(self, left: int, right: int) -> Rel:
        """``[L] ; r ; [R]``."""
        return self.dom(left).ran(right)

    def opt(self) -> Rel:
        """``r?``: r or the identity."""
        return Rel(self.n, [row | (1 << i) for i, row in enumerate(self.rows)])

    def plus(self) -> Rel:
        """``r+``: the transitive closure (Warshall over bit rows)."""
        rows = list(self.rows)
        for k in range(self.n):
            bit = 1 << k
            rk = rows[k]
            if not rk:
                continue
            for i in range(self.n):
                if rows[i] & bit:
                    rows[i] |= rk
        return Rel(self.n, rows)

    def star(self) -> Rel:
        """``r*``: the reflexive-transitive closure."""
        return self.plus().opt()

    # -- questions ----------------------------------------------------------

    def is_empty(self) -> bool:
        return not any(self.rows)

    def irreflexive(self) -> bool:
        return not any(row >> i & 1 for i, row in enumerate(self.rows))

    def acyclic(self) -> bool:
        return self.plus().irreflexive()

    def domain(self) -> int:
        """The events with an outgoing pair, as a mask."""
        out = 0
        for i, row in enumerate(self.rows):
            if row:
                out |= 1 << i
        return out

    def range(self) -> int:
        """The events with an incoming pair, as a mask."""
        out = 0
        for row in self.rows:
            out |= row
        return out

    def pairs(self) -> list[tuple[int, int]]:
        return [(i, j) for i, row in enumerate(self.rows) for j in bits(row)]

    def has(self, a: int, b: int) -> bool:
        return bool(self.rows[a] >> b & 1)

    def cycle(self) -> list[int]:
        """One cycle of the relation as a list of events (empty if acyclic).

        Used to explain *why* a candidate execution is forbidden.
        """
        closure = self.plus()
        for start in range(self.n):
            if closure.has(start, start):
                return self.path(start, start)[:-1]
        return []

    def path(self, src: int, dst: int) -> list[int]:
        """A shortest path ``[src, ..., dst]`` of at least one step, or []."""
        prev: dict[int, int] = {}
        frontier = [src]
        while frontier:
            nxt = []
            for a in frontier:
                for b in bits(self.rows[a]):
                    if b in prev:
                        continue
                    prev[b] = a
                    if b == dst:
                        out = [b]
                        while a != src:
                            out.append(a)
                            a = prev[a]
                        out.append(src)
                        return out[::-1]
                    nxt.append(b)
            frontier = nxt
        return []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rel) and self.rows == other.rows

    def __hash__(self) -> int:
        return hash(tuple(self.rows))

    def __repr__(self) -> str:
        return f"Rel({self.pairs()})"
