"""Enumerate the executions the LKMM allows for a program of threads.

The method is herd7's: build every *candidate execution* and keep those the
consistency predicate accepts.  A candidate is one run of each thread
(:mod:`ctxcheck.lkmm.thread`), plus an rf edge for every read (to a write of
the same location and value) and a coherence order per location.  Values a
read may return are found by a fixed point: start from the initial values,
collect every value some run writes, re-run until nothing new appears.

Two cheap filters run before the full check, and both are exact: a location's
rf and co choices must already satisfy the *coherence* and *atomic* axioms
restricted to that location (both axioms only relate accesses to one
location, so a choice failing them fails the full check too).  The full
:class:`~ctxcheck.lkmm.model.Lkmm` check then judges the product of the
per-location choices.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctxcheck.errors import CtxcheckError
from ctxcheck.lkmm.events import Event, Kind, Value
from ctxcheck.lkmm.graph import Graph
from ctxcheck.lkmm.judgement import Judgement
from ctxcheck.lkmm.model import Lkmm
from ctxcheck.lkmm.relation import Rel
from ctxcheck.lkmm.thread import ThreadProgram, Trace, traces

MAX_DOMAIN_ROUNDS = 16


class ExplosionError(CtxcheckError):
    """The values a location may hold do not settle (a counter without bound?)."""


@dataclass(frozen=True)
class Program:
    """Threads (numbered 0..) and the initial value of every shared location."""

    threads: Sequence[ThreadProgram]
    init: Mapping[str, Value]


@dataclass(frozen=True)
class Execution:
    """An execution the LKMM allows: its graph, each thread's result, the
    model's judgement (flags such as data-race)."""

    graph: Graph
    results: tuple[Any, ...]
    judgement: Judgement


@dataclass
class Stats:
    """What the enumeration did, for the report and the benchmarks."""

    thread_runs: int = 0
    combinations: int = 0
    candidates: int = 0
    consistent: int = 0


def value_domains(program: Program, *, justify: bool = True) -> dict[str, frozenset[Value]]:
    """The values each location may hold: a least fixed point from the initial values.

    A round runs every thread with its reads given the values known so far,
    and keeps the values written by combinations of runs (one per thread) in
    which every value read is the initial value or is written by some run of
    the combination.  A value enters only when something that can happen
    writes it, so a counter that two threads increment stops at 2, and no
    value is ever made out of thin air (as in herd7, whose values are solved
    from the initial state).  ``justify=False`` keeps every value any run
    writes (a superset, finite only for programs that write constants): the
    reference the tests hold the justified domains to.
    """
    domain = {loc: frozenset([v]) for loc, v in program.init.items()}
    for _ in range(MAX_DOMAIN_ROUNDS):
        runs = [traces(tid, p, domain) for tid, p in enumerate(program.threads)]
        grown = {loc: set(vals) for loc, vals in domain.items()}
        for combo in itertools.product(*runs):
            written = _written(combo)
            if not justify or _justified(program, combo, written):
                for loc, value in written:
                    grown.setdefault(loc, set()).add(value)
        frozen = {loc: frozenset(vals) for loc, vals in grown.items()}
        if frozen == domain:
            return domain
        domain = frozen
    raise ExplosionError(
        f"the values of the shared locations did not settle after {MAX_DOMAIN_ROUNDS} rounds; "
        "bound the counters the program increments"
    )


def _written(combo: Sequence[Trace]) -> set[tuple[str, Value]]:
    return {
        (e.loc, e.value)
        for tr in combo
        for e in tr.events
        if e.kind is Kind.W and e.loc is not None and e.value is not None
    }


def _justified(program: Program, combo: Sequence[Trace], written: set[tuple[str, Value]]) -> bool:
    """Every value read in ``combo`` is initial or written by one of its runs."""
    for tr in combo:
        for e in tr.events:
            if e.kind is not Kind.R or e.loc is None:
                continue
            if program.init.get(e.loc) != e.value and (e.loc, e.value) not in written:
                return False
    return True


def executions(
    program: Program, stats: Stats | None = None, *, prune: bool = True, justify: bool = True
) -> Iterator[Execution]:
    """Every LKMM-consistent execution of ``program``.

    ``prune=False`` skips the per-location coherence and atomicity filter and
    hands every candidate to the full check: the reference the tests hold
    the filter to; ``justify=False`` likewise for the value domains.
    """
    stats = stats if stats is not None else Stats()
    domain = value_domains(program, justify=justify)
    runs = [traces(tid, p, domain) for tid, p in enumerate(program.threads)]
    stats.thread_runs = sum(len(r) for r in runs)
    for combo in itertools.product(*runs):
        stats.combinations += 1
        yield from _executions_of(program, combo, stats, prune)


def _executions_of(
    program: Program, combo: Sequence[Trace], stats: Stats, prune: bool
) -> Iterator[Execution]:
    events, rmw, addr, data, ctrl = _assemble(program, combo)
    per_loc = []
    for loc in sorted(program.init):
        choices = list(_location_choices(events, rmw, loc, prune))
        if not choices:
            return
        per_loc.append(choices)
    results = tuple(t.result for t in combo)
    shared: dict[str, Any] = {}
    for pick in itertools.product(*per_loc):
        rf: dict[int, int] = {}
        co: dict[str, Sequence[int]] = {}
        for loc_rf, (loc, order) in pick:
            rf.update(loc_rf)
            co[loc] = order
        graph = Graph(events, rf, co, rmw, addr, data, ctrl, shared)
        stats.candidates += 1
        verdict = Lkmm(graph).check()
        if verdict.consistent:
            stats.consistent += 1
            yield Execution(graph, results, verdict)


Pairs = frozenset[tuple[int, int]]


def _assemble(
    program: Program, combo: Sequence[Trace]
) -> tuple[list[Event], Pairs, Pairs, Pairs, Pairs]:
    """One event list: initial writes, then each thread's run, re-indexed."""
    events = [
        Event(-1, k, Kind.W, "init", loc, program.init[loc], label=f"initial {loc}")
        for k, loc in enumerate(sorted(program.init))
    ]
    rels: list[set[tuple[int, int]]] = [set(), set(), set(), set()]
    for tr in combo:
        base = len(events)
        events.extend(tr.events)
        for out, local in zip(rels, (tr.rmw, tr.addr, tr.data, tr.ctrl), strict=True):
            out.update((a + base, b + base) for a, b in local)
    rmw, addr, data, ctrl = (frozenset(r) for r in rels)
    return events, rmw, addr, data, ctrl


def _location_choices(
    events: Sequence[Event], rmw: frozenset[tuple[int, int]], loc: str, prune: bool = True
) -> Iterator[tuple[dict[int, int], tuple[str, tuple[int, ...]]]]:
    """The (rf, co) choices at ``loc`` that pass coherence and atomicity there
    (every choice when ``prune`` is False)."""
    idx = [i for i, e in enumerate(events) if e.loc == loc and e.kind is not Kind.F]
    init = [i for i in idx if events[i].is_init]
    writes = [i for i in idx if events[i].kind is Kind.W and not events[i].is_init]
    reads = [i for i in idx if events[i].kind is Kind.R]
    sources = []
    for r in reads:
        srcs = [w for w in init + writes if events[w].value == events[r].value]
        if not srcs:
            return
        sources.append(srcs)
    pairs = [(r, w) for r, w in rmw if r in reads]
    for perm in itertools.permutations(writes):
        order = tuple(init) + perm
        pos = {w: k for k, w in enumerate(order)}
        for pick in itertools.product(*sources):
            rf = dict(zip(reads, pick, strict=True))
            if not prune or (
                _atomic_ok(events, rf, pos, order, pairs) and _coherent(events, idx, rf, order)
            ):
                yield rf, (loc, order)


def _atomic_ok(
    events: Sequence[Event],
    rf: Mapping[int, int],
    pos: Mapping[int, int],
    order: Sequence[int],
    pairs: Sequence[tuple[int, int]],
) -> bool:
    """No other thread's write between an RMW's source and its own write."""
    for r, w in pairs:
        lo, hi = pos[rf[r]], pos[w]
        if lo >= hi:
            return False
        if any(events[x].tid != events[r].tid for x in order[lo + 1 : hi]):
            return False
    return True


def _coherent(
    events: Sequence[Event], idx: Sequence[int], rf: Mapping[int, int], order: Sequence[int]
) -> bool:
    """SC per location: po-loc | rf | co | fr acyclic over loc's accesses."""
    local = {g: k for k, g in enumerate(idx)}
    n = len(idx)
    pairs = []
    for a, b in itertools.combinations(idx, 2):
        ea, eb = events[a], events[b]
        if ea.tid >= 0 and ea.tid == eb.tid:
            first, second = (a, b) if ea.index < eb.index else (b, a)
            pairs.append((local[first], local[second]))
    co_pairs = [(local[a], local[b]) for k, a in enumerate(order) for b in order[k + 1 :]]
    pairs.extend(co_pairs)
    pairs.extend((local[w], local[r]) for r, w in rf.items())
    pos = {w: k for k, w in enumerate(order)}
    for r, w in rf.items():
        pairs.extend((local[r], local[x]) for x in order[pos[w] + 1 :])
    return Rel.of_pairs(n, pairs).acyclic()
