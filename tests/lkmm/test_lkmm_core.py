"""Relations, hand-built graphs and the engine interface of ctxcheck.lkmm."""

from __future__ import annotations

import pytest

from ctxcheck.lkmm.events import Event, Kind
from ctxcheck.lkmm.graph import Graph
from ctxcheck.lkmm.incremental import co_positions, is_consistent, judge, may_read_from
from ctxcheck.lkmm.relation import Rel


def test_relation_algebra() -> None:
    r = Rel.of_pairs(4, [(0, 1), (1, 2)])
    assert r.seq(r).pairs() == [(0, 2)]
    assert r.plus().pairs() == [(0, 1), (0, 2), (1, 2)]
    assert r.star().has(3, 3)
    assert r.inv().pairs() == [(1, 0), (2, 1)]
    assert r.acyclic()
    cyc = r | Rel.of_pairs(4, [(2, 0)])
    assert not cyc.acyclic()
    assert sorted(cyc.cycle()) == [0, 1, 2]
    assert r.restrict(0b0001, 0b1111).pairs() == [(0, 1)]
    assert (r - Rel.of_pairs(4, [(0, 1)])).pairs() == [(1, 2)]
    assert Rel.product(3, 0b011, 0b100).pairs() == [(0, 2), (1, 2)]
    assert r.path(0, 2) == [0, 1, 2]


def W(tid: int, idx: int, loc: str, val: int, tag: str = "once") -> Event:  # noqa: N802
    return Event(tid, idx, Kind.W, tag, loc, val)


def R(tid: int, idx: int, loc: str, val: int, tag: str = "once") -> Event:  # noqa: N802
    return Event(tid, idx, Kind.R, tag, loc, val)


def F(tid: int, idx: int, tag: str) -> Event:  # noqa: N802
    return Event(tid, idx, Kind.F, tag)


INIT = [W(-1, 0, "x", 0, "init"), W(-1, 1, "y", 0, "init")]


def _sb(fence: str | None) -> list[Event]:
    """Store buffering, both loads reading the initial values."""
    p0 = [W(0, 0, "x", 1), R(0, 2, "y", 0)]
    p1 = [W(1, 0, "y", 1), R(1, 2, "x", 0)]
    if fence:
        p0.insert(1, F(0, 1, fence))
        p1.insert(1, F(1, 1, fence))
    return INIT + p0 + p1


def test_store_buffering_needs_full_fences() -> None:
    ev = _sb(None)  # init x, init y, Wx, Ry, Wy, Rx
    g = Graph(ev, rf={3: 1, 5: 0}, co={"x": (0, 2), "y": (1, 4)})
    assert judge(g).consistent
    ev = _sb("mb")  # init x, init y, Wx, F, Ry, Wy, F, Rx
    g = Graph(ev, rf={4: 1, 7: 0}, co={"x": (0, 2), "y": (1, 5)})
    verdict = judge(g)
    assert verdict.failed == "propagation"
    assert verdict.cycle


def test_coherence_and_atomic_are_named() -> None:
    # P0 writes x=1 then reads x=0 from the initial write: not coherent
    ev = [*INIT, W(0, 0, "x", 1), R(0, 1, "x", 0)]
    assert judge(Graph(ev, rf={3: 0}, co={"x": (0, 2), "y": (1,)})).failed == "coherence"
    # an RMW whose read and write let another thread's write in between
    rmw_r = Event(0, 0, Kind.R, "once", "x", 0, rmw=True)
    rmw_w = Event(0, 1, Kind.W, "once", "x", 1, rmw=True)
    ev = [*INIT, rmw_r, rmw_w, W(1, 0, "x", 2)]
    g = Graph(ev, rf={2: 0}, co={"x": (0, 4, 3), "y": (1,)}, rmw=frozenset({(2, 3)}))
    assert judge(g).failed == "atomic"


def test_plain_race_is_flagged() -> None:
    ev = [*INIT, W(0, 0, "x", 1, "plain"), R(1, 0, "x", 1, "plain")]
    verdict = judge(Graph(ev, rf={3: 2}, co={"x": (0, 2), "y": (1,)}))
    assert verdict.consistent
    assert "data-race" in verdict.flags
    assert verdict.races == ((2, 3),)


def test_may_read_from_prunes_with_the_partial_graph() -> None:
    # message passing with release/acquire; the reader's second load is the
    # one being added: having read flag=1 it may not read payload from init
    ev = [
        W(-1, 0, "p", 0, "init"), W(-1, 1, "f", 0, "init"),
        W(0, 0, "p", 1), W(0, 1, "f", 1, "release"),
        R(1, 0, "f", 1, "acquire"), R(1, 1, "p", 0),
    ]  # fmt: skip
    g = Graph(ev, rf={4: 3}, co={"p": (0, 2), "f": (1, 3)})
    assert may_read_from(g, 5) == []  # value 0: only init, which is forbidden
    ev[5] = Event(1, 1, Kind.R, "once", "p", None)  # value not fixed yet
    g = Graph(ev, rf={4: 3}, co={"p": (0, 2), "f": (1, 3)})
    assert may_read_from(g, 5) == [2]
    assert is_consistent(g)
    with pytest.raises(ValueError, match="not a read"):
        may_read_from(g, 2)


def test_co_positions() -> None:
    # P0: W x=1 ; W x=2 (po): the second write cannot go before the first
    ev = [*INIT, W(0, 0, "x", 1), W(0, 1, "x", 2)]
    g = Graph(ev, rf={}, co={"x": (0, 2), "y": (1,)})
    assert co_positions(g, 3) == [2]
