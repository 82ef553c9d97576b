"""Generated thread programs for the LKMM tests, and an SC oracle for them.

A program is a list of threads, each a list of instructions drawn from a
small set (marked loads and stores, acquire/release, fences, xchg/cmpxchg)
over two or three locations.  ``as_program`` turns one into ctxcheck thread
programs; ``sc_outcomes`` runs every interleaving under sequential
consistency, the reference any memory model must allow.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

from ctxcheck.lkmm.events import Value
from ctxcheck.lkmm.explore import Execution, Program
from ctxcheck.lkmm.ops import AnyOp, Fence, Load, Rmw, Store

Instr = tuple[str, str, int]  # (kind, location, value)
LOCS = ("x", "y", "z")


ACCESSES = ("ld", "st", "acq", "rel", "xchg", "cas")
FENCES = ("mb", "wmb", "rmb")


def random_program(rng: random.Random, threads: int, length: int) -> list[list[Instr]]:
    """``threads`` threads of 2..length accesses each, alternating between
    the two locations (the shapes of MP, SB, LB, S, R...), with a fence
    between two accesses now and then."""
    out = []
    for _ in range(threads):
        body: list[Instr] = []
        loc = rng.randrange(2)
        for k in range(rng.randint(2, length)):
            if k and rng.random() < 0.3:
                body.append((rng.choice(FENCES), "x", 0))
            body.append((rng.choice(ACCESSES), LOCS[loc], rng.randint(1, 2)))
            loc = 1 - loc
        out.append(body)
    return out


def with_full_fences(prog: list[list[Instr]]) -> list[list[Instr]]:
    """The program with smp_mb() between every two instructions."""
    out = []
    for body in prog:
        fenced: list[Instr] = []
        for k, ins in enumerate(body):
            if k:
                fenced.append(("mb", "x", 0))
            fenced.append(ins)
        out.append(fenced)
    return out


def _op(ins: Instr) -> AnyOp | None:
    kind, loc, val = ins
    if kind == "ld":
        return Load(loc, "once")
    if kind == "acq":
        return Load(loc, "acquire")
    if kind == "st":
        return Store(loc, val, "once")
    if kind == "rel":
        return Store(loc, val, "release")
    if kind in ("mb", "wmb", "rmb"):
        return Fence(kind)
    if kind == "xchg":
        return Rmw(loc, lambda old, v=val: v, "mb")
    if kind == "cas":
        return Rmw(loc, lambda old, v=val: v if old == 0 else None, "mb")
    raise AssertionError(kind)


def _thread(body: list[Instr]) -> Any:
    def run() -> Generator[AnyOp, Value | None, list[Value]]:
        seen: list[Value] = []
        for ins in body:
            op = _op(ins)
            assert op is not None
            reply = yield op
            if ins[0] in ("ld", "acq", "xchg", "cas"):
                assert reply is not None
                seen.append(reply)
        return seen

    return run


def as_program(prog: list[list[Instr]]) -> Program:
    return Program(tuple(_thread(b) for b in prog), {loc: 0 for loc in LOCS[:2]})


Outcome = tuple[tuple[tuple[Value, ...], ...], tuple[Value, ...]]


def outcome(ex: Execution) -> Outcome:
    """Registers of every thread, then the final memory."""
    regs = tuple(tuple(r) for r in ex.results)
    return regs, tuple(ex.graph.final_value(loc) for loc in LOCS[:2])


def sc_outcomes(prog: list[list[Instr]]) -> set[Outcome]:
    """Every outcome of every interleaving, memory being one array.

    Fences do nothing under SC, so they are dropped before interleaving.
    """
    bodies = [[ins for ins in b if ins[0] not in ("mb", "wmb", "rmb")] for b in prog]
    out: set[Outcome] = set()

    def step(
        pcs: tuple[int, ...], mem: dict[str, Value], regs: tuple[tuple[Value, ...], ...]
    ) -> None:
        if all(pc == len(b) for pc, b in zip(pcs, bodies, strict=True)):
            out.add((regs, tuple(mem[loc] for loc in LOCS[:2])))
            return
        for t, body in enumerate(bodies):
            if pcs[t] == len(body):
                continue
            kind, loc, val = body[pcs[t]]
            new_mem = dict(mem)
            new_regs = list(regs)
            if kind in ("ld", "acq", "xchg", "cas"):
                new_regs[t] = (*regs[t], mem[loc])
            if kind in ("st", "rel", "xchg") or (kind == "cas" and mem[loc] == 0):
                new_mem[loc] = val
            nxt = tuple(pc + (k == t) for k, pc in enumerate(pcs))
            step(nxt, new_mem, tuple(new_regs))

    step(tuple(0 for _ in bodies), {loc: 0 for loc in LOCS[:2]}, tuple(() for _ in bodies))
    return out
