"""ctxcheck.export.to_networkx: nodes, program order, reads-from, conflict order."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx

import ctxcheck
from ctxcheck import Cell, Config, Kernel, Machine, Model, Property, Struct, field, spinlock
from ctxcheck.export import EDGE_KINDS, to_networkx
from ctxcheck.kernel import Steps
from ctxcheck.tracefile import TraceFile, to_json


class pair(Struct):
    x: Cell = field(0)
    y: Cell = field(0)
    lock = spinlock()


@dataclass
class State:
    p: pair


def writer(k: Kernel, p: pair) -> Steps:
    yield k.spin_lock(p.lock)
    yield k.store(p.x, 1)
    yield k.spin_unlock(p.lock)
    yield k.store(p.y, 1)


def reader(k: Kernel, p: pair) -> Steps:
    y = yield k.load(p.y)
    yield k.spin_lock(p.lock)
    x = yield k.load(p.x)
    yield k.spin_unlock(p.lock)
    yield k.store(p.x, x + y)


def setup(m: Machine, cfg: Config) -> State:
    p = m.new(pair, name="p")
    m.spawn("W", writer, p)
    m.spawn("R", reader, p)
    return State(p)


def x_is_not_one(m: Machine, s: State) -> str | None:
    return "x ended as 1" if s.p.x.value == 1 else None


MODEL = Model(
    name="export.pair",
    setup=setup,
    properties=(Property("x_is_not_one", "", x_is_not_one, final=True),),
)


def _violation() -> ctxcheck.Violation:
    result = ctxcheck.check(MODEL, explorer="naive")
    return result.assert_violates("x_is_not_one")


def _edges(g: nx.DiGraph, kind: str) -> set[tuple[int, int]]:
    return {(a, b) for a, b, d in g.edges(data=True) if kind in d["kind"].split("+")}


def test_nodes_carry_the_event() -> None:
    v = _violation()
    g = to_networkx(v)
    assert isinstance(g, nx.DiGraph)
    assert sorted(g.nodes) == list(range(1, v.steps + 1))
    for e in v.events:
        node = g.nodes[e.step]
        assert (node["thread"], node["op"], node["object"], node["value"]) == (
            e.thread,
            e.op,
            e.obj,
            e.value,
        )
        assert (node["function"], node["line"], node["cpu"]) == (e.function, e.line, e.cpu)
        assert node["violating"] == (e.step == v.steps)
    assert g.graph["violating_step"] == v.steps
    assert g.graph["property"] == "x_is_not_one"


def test_program_order_links_each_thread_in_order() -> None:
    v = _violation()
    g = to_networkx(v)
    po = _edges(g, "po")
    for tid in {e.tid for e in v.events}:
        steps = [e.step for e in v.events if e.tid == tid]
        assert {(a, b) for a, b in po if a in steps} == set(itertools.pairwise(steps))


def test_reads_from_and_conflicts_match_the_footprints() -> None:
    v = _violation()
    g = to_networkx(v)
    by_step = {e.step: e for e in v.events}
    # reads-from: a cross-thread read of x or y comes from the last write of it
    for a, b in _edges(g, "rf"):
        assert by_step[a].tid != by_step[b].tid
        assert by_step[b].op == "load" and by_step[a].op == "store"
        assert by_step[a].obj == by_step[b].obj
    # every lock hand-over: a release then an acquisition by the other thread
    for a, b in _edges(g, "lock"):
        assert (by_step[a].op, by_step[b].op) == ("spin_unlock", "spin_lock")
    assert _edges(g, "lock"), "the two threads share the lock"
    # the lost write: both threads store x, one after the other
    ww = [(a, b) for a, b in _edges(g, "ww") if by_step[a].obj == "p.x"]
    assert ww, "the two stores to x are in write order"
    assert all(set(d["kind"].split("+")) <= set(EDGE_KINDS) for *_, d in g.edges(data=True))


def test_a_trace_file_gives_the_same_graph() -> None:
    v = _violation()
    result = ctxcheck.check(MODEL, explorer="naive")
    trace = TraceFile("t.json", to_json(result, v, ""))
    a, b = to_networkx(v), to_networkx(trace)
    assert sorted(a.edges(data="kind")) == sorted(b.edges(data="kind"))
    assert b.graph["model"] == "export.pair"


def test_handmade_footprints_give_exact_edges() -> None:
    """Steps 1 W x, 2 R x (other thread), 3 R x, 4 W x (first thread)."""
    from ctxcheck.runtime import Event

    def ev(step: int, tid: int, kind: str) -> Event:
        return Event(
            step=step,
            tid=tid,
            thread=f"T{tid}",
            cpu=None,
            op="op",
            text="op",
            obj="x",
            function="f",
            file="f.py",
            line=step,
            stack=["f"],
            irqs_off=False,
            in_irq=False,
            footprint=[("x", kind)],
        )

    v = ctxcheck.Violation(
        "p", "m", 4, 0, [], [ev(1, 0, "W"), ev(2, 1, "R"), ev(3, 1, "R"), ev(4, 0, "W")]
    )
    g = to_networkx(v)
    assert dict(((a, b), d) for a, b, d in g.edges(data="kind")) == {
        (1, 4): "po",
        (2, 3): "po",
        (1, 2): "rf",
        (1, 3): "rf",
        (2, 4): "fr",
        (3, 4): "fr",
    }
