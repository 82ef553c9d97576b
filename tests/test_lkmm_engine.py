"""The engine under --memory-model lkmm, held to the herd-style enumeration.

``ctxcheck.lkmm.explore`` enumerates every LKMM-consistent execution of a
program the way herd7 does (candidate executions, then the consistency
check); it is what ``ctxcheck litmus`` answers the upstream litmus tests
with. The engine instead grows one graph per schedule and lets each access
choose what it reads and where it goes in coherence order. On generated
programs both must give the same outcomes (what each thread read, the final
value of each word, whether the execution has a data race), restricted to
the executions the engine explores: those whose po | rf is acyclic. And dpor
must give what the unreduced enumeration of the engine gives.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Generator
from typing import Any

import pytest

import ctxcheck
from ctxcheck import Expectation, Model, Property, Variant
from ctxcheck.lkmm import ops
from ctxcheck.lkmm.explore import Program, executions
from ctxcheck.lkmm.graph import Graph
from ctxcheck.lkmm.relation import Rel
from ctxcheck.primitives.heap import Struct, field

LOCS = ("x", "y")
#: an RMW's order, as ctxcheck.lkmm.ops spells it, and the kernel name's suffix
ORDERS = ("mb", "mb", "once", "acquire", "release")
SUFFIX = {"mb": "", "once": "_relaxed", "acquire": "_acquire", "release": "_release"}
Instr = tuple[Any, ...]


class shared(Struct):
    x = field(0)
    y = field(0)


def random_program(rng: random.Random) -> list[list[Instr]]:
    """2 or 3 threads of 2 to 3 accesses, fences and atomics on two words.

    A thread mostly alternates between the words (store x, load y is the
    shape of store buffering and message passing), so weak outcomes are
    common among the programs.
    """
    threads = []
    n = rng.choice((2, 2, 3))
    for _ in range(n):
        body: list[Instr] = []
        first = rng.randrange(2)
        for i in range(rng.randint(2, 3 if n == 2 else 2)):
            loc = LOCS[(first + i) % 2] if rng.random() < 0.8 else rng.choice(LOCS)
            kind = rng.choices(("ld", "st", "f", "xchg", "inc", "cas"), (5, 5, 2, 1, 1, 1))[0]
            if kind == "ld":
                body.append(("ld", loc, rng.choice(("plain", "once", "once", "acquire"))))
            elif kind == "st":
                tag = rng.choice(("plain", "once", "once", "release"))
                body.append(("st", loc, rng.randint(1, 2), tag))
            elif kind == "f":
                body.append(("f", rng.choice(("mb", "wmb", "rmb"))))
            elif kind == "xchg":
                body.append(("xchg", loc, rng.randint(1, 2), rng.choice(ORDERS)))
            elif kind == "inc":
                body.append(("inc", loc))
            else:
                body.append(("cas", loc, rng.randint(0, 1), rng.randint(1, 2), rng.choice(ORDERS)))
        threads.append(body)
    return threads


# -- the program as an engine model --------------------------------------------
def engine_thread(k: Any, s: shared, body: list[Instr]) -> Generator[Any, Any, tuple[Any, ...]]:
    got = []
    for ins in body:
        cell = getattr(s, ins[1]) if ins[0] != "f" else None
        if ins[0] == "ld":
            make = {"plain": k.load, "once": k.READ_ONCE, "acquire": k.smp_load_acquire}
            got.append((yield make[ins[2]](cell)))
        elif ins[0] == "st":
            make = {"plain": k.store, "once": k.WRITE_ONCE, "release": k.smp_store_release}
            yield make[ins[3]](cell, ins[2])
        elif ins[0] == "f":
            yield {"mb": k.smp_mb, "wmb": k.smp_wmb, "rmb": k.smp_rmb}[ins[1]]()
        elif ins[0] == "xchg":
            got.append((yield getattr(k, "xchg" + SUFFIX[ins[3]])(cell, ins[2])))
        elif ins[0] == "inc":
            yield k.atomic_inc(cell)
        else:
            got.append((yield getattr(k, "cmpxchg" + SUFFIX[ins[4]])(cell, ins[2], ins[3])))
    return tuple(got)


Outcome = tuple[tuple[tuple[Any, ...], ...], tuple[Any, ...], bool]


def engine_model(program: list[list[Instr]], seen: set[Outcome]) -> Model:
    def setup(m: Any, cfg: Any) -> shared:
        s = m.new(shared, name="s")
        for i, body in enumerate(program):
            m.spawn(f"P{i}", engine_thread, s, body)
        return s

    def record(m: Any, s: shared) -> None:
        judgement = m.weak.settle() if m.weak is not None else None
        if judgement is None or judgement.consistent:
            results = tuple(t.result for t in m.threads)
            final = tuple(getattr(s, loc)._value for loc in LOCS)
            seen.add((results, final, bool(judgement and judgement.races)))

    return Model(
        name="generated",
        setup=setup,
        properties=(Property("outcome", "records the outcome", record, final=True),),
    )


def engine_outcomes(program: list[list[Instr]], explorer: str) -> set[Outcome]:
    seen: set[Outcome] = set()
    result = ctxcheck.check(engine_model(program, seen), explorer=explorer, memory_model="lkmm")
    assert result.exhaustive
    return seen


# -- the program for the herd-style enumeration ---------------------------------
def reference_thread(body: list[Instr]) -> Callable[[], Generator[Any, Any, tuple[Any, ...]]]:
    def run() -> Generator[Any, Any, tuple[Any, ...]]:
        got = []
        for ins in body:
            if ins[0] == "ld":
                got.append((yield ops.Load(f"s.{ins[1]}", tag=ins[2])))
            elif ins[0] == "st":
                yield ops.Store(f"s.{ins[1]}", ins[2], tag=ins[3])
            elif ins[0] == "f":
                yield ops.Fence(ins[1])
            elif ins[0] == "xchg":
                new = ins[2]
                rmw = ops.Rmw(f"s.{ins[1]}", lambda old, new=new: new, order=ins[3])
                got.append((yield rmw))
            elif ins[0] == "inc":
                yield ops.Rmw(f"s.{ins[1]}", lambda old: old + 1, order="noreturn")
            else:
                expect, new = ins[2], ins[3]
                got.append(
                    (
                        yield ops.Rmw(
                            f"s.{ins[1]}",
                            lambda old, e=expect, n=new: n if old == e else None,
                            order=ins[4],
                        )
                    )
                )
        return tuple(got)

    return run


def porf_acyclic(g: Graph) -> bool:
    rf = Rel.of_pairs(g.n, ((w, r) for r, w in g.rf.items()))
    return (g.po | rf).acyclic()


def reference_outcomes(program: list[list[Instr]]) -> set[Outcome]:
    prog = Program(
        threads=[reference_thread(b) for b in program], init={f"s.{loc}": 0 for loc in LOCS}
    )
    out: set[Outcome] = set()
    for ex in executions(prog):
        if porf_acyclic(ex.graph):
            final = tuple(ex.graph.final_value(f"s.{loc}") for loc in LOCS)
            out.add((ex.results, final, bool(ex.judgement.races)))
    return out


#: 40 programs in CI (about a minute on one core); CTXCHECK_LARGE=1 runs 1,000
PROGRAMS = [
    random_program(random.Random(seed))
    for seed in range(1000 if os.environ.get("CTXCHECK_LARGE") else 40)
]


@pytest.mark.parametrize("seed", range(len(PROGRAMS)))
def test_engine_explores_what_the_lkmm_allows(seed: int) -> None:
    program = PROGRAMS[seed]
    expected = reference_outcomes(program)
    assert engine_outcomes(program, "naive") == expected, program
    assert engine_outcomes(program, "dpor") == expected, program


def test_the_generated_programs_show_weak_behaviour() -> None:
    """The comparison above is only worth something if weak outcomes occur."""
    weak = 0
    sample = PROGRAMS[:60]
    for program in sample:
        sc: set[Outcome] = set()
        ctxcheck.check(engine_model(program, sc), explorer="naive")
        sc_outcomes = {o[:2] for o in sc}
        weak += any(o[:2] not in sc_outcomes for o in reference_outcomes(program))
    assert weak >= len(sample) // 5  # 9 of the first 40, 15 of the first 60


# -- classic shapes, by name -------------------------------------------------------
def shape(*threads: list[Instr]) -> list[list[Instr]]:
    return list(threads)


MP = shape(
    [("st", "x", 1, "plain"), ("st", "y", 1, "once")], [("ld", "y", "once"), ("ld", "x", "plain")]
)
MP_FENCED = shape(
    [("st", "x", 1, "once"), ("f", "wmb"), ("st", "y", 1, "once")],
    [("ld", "y", "once"), ("f", "rmb"), ("ld", "x", "once")],
)
SB = shape(
    [("st", "x", 1, "once"), ("ld", "y", "once")], [("st", "y", 1, "once"), ("ld", "x", "once")]
)
SB_MB = shape(
    [("st", "x", 1, "once"), ("f", "mb"), ("ld", "y", "once")],
    [("st", "y", 1, "once"), ("f", "mb"), ("ld", "x", "once")],
)


@pytest.mark.parametrize(
    ("program", "weak_outcome", "allowed"),
    [
        (MP_FENCED, ((), (1, 0)), False),
        (MP, ((), (1, 0)), True),
        (SB, ((0,), (0,)), True),
        (SB_MB, ((0,), (0,)), False),
    ],
)
def test_classic_shapes(program: list[list[Instr]], weak_outcome: Any, allowed: bool) -> None:
    outcomes = {o[0] for o in engine_outcomes(program, "dpor")}
    assert (weak_outcome in outcomes) is allowed
    assert engine_outcomes(program, "dpor") == reference_outcomes(program)


def test_message_passing_with_plain_accesses_races() -> None:
    outcomes = engine_outcomes(MP, "dpor")
    assert any(racy for _, _, racy in outcomes)
    assert ((), (1, 0)) in {o[0] for o in outcomes}


# -- what the engine reports ------------------------------------------------------
class box(Struct):
    data = field(0)


class root(Struct):
    ptr = field(None)


def publisher(k: Any, r: root, fenced: bool) -> Generator[Any, Any, None]:
    o = yield k.kmalloc(box, data=42)
    if fenced:
        yield k.smp_wmb()
    yield k.WRITE_ONCE(r.ptr, o)


def subscriber(k: Any, r: root) -> Generator[Any, Any, Any]:
    p = yield k.READ_ONCE(r.ptr)
    if p is not None:
        return (yield k.load(p.data))
    return None


def publish_setup(m: Any, cfg: Any) -> root:
    r = m.new(root, name="r")
    m.spawn("pub", publisher, r, cfg.variant == "fenced")
    m.spawn("sub", subscriber, r)
    return r


PUBLISH = Model(
    name="publish",
    setup=publish_setup,
    variants=(Variant("fenced"), Variant("unfenced")),
    expectations=(Expectation("fenced", True), Expectation("unfenced", False)),
)


def test_sc_and_lkmm_differ_exactly_where_the_barrier_is_missing() -> None:
    assert ctxcheck.check(PUBLISH, variant="unfenced").verdict == "holds"
    assert ctxcheck.check(PUBLISH, variant="fenced", memory_model="lkmm").verdict == "holds"
    result = ctxcheck.check(PUBLISH, variant="unfenced", memory_model="lkmm")
    v = result.assert_violates("memory_safety")
    assert "before it is initialised" in v.message
    assert "not yet visible" in v.message
    assert result.memory_model == "lkmm"
    assert result.to_json()["memory_model"] == "lkmm"
    assert "Linux kernel memory model" in result.summary()


def test_a_stale_read_is_marked_in_the_trace() -> None:
    result = ctxcheck.check(PUBLISH, variant="unfenced", memory_model="lkmm")
    v = result.assert_violates("memory_safety")
    last = v.events[-1]
    assert last.thread == "sub" and "p.data" not in last.text
    assert "stale: reads uninitialised memory" in last.text, last.text
    assert "is not yet visible to sub" in last.text


def test_barriers_change_nothing_under_sc() -> None:
    fenced = ctxcheck.check(PUBLISH, variant="fenced")
    unfenced = ctxcheck.check(PUBLISH, variant="unfenced")
    assert fenced.stats.executions == unfenced.stats.executions
    assert fenced.stats.steps == unfenced.stats.steps


@pytest.mark.parametrize("explorer", ["bfs", "odpor", "bounded"])
def test_explorers_not_proven_under_lkmm_are_refused(explorer: str) -> None:
    with pytest.raises(ctxcheck.UsageError, match="does not run under --memory-model lkmm"):
        ctxcheck.check(PUBLISH, variant="fenced", memory_model="lkmm", explorer=explorer)


def test_an_unknown_memory_model_is_a_usage_error() -> None:
    with pytest.raises(ctxcheck.UsageError, match="unknown memory model 'tso'"):
        ctxcheck.check(PUBLISH, variant="fenced", memory_model="tso")


# -- the command line ----------------------------------------------------------
MP_FILE = '''
"""Message passing through a published struct, without a barrier."""
from ctxcheck import Model
from ctxcheck.primitives.heap import Struct, field


class obj(Struct):
    data = field(0)


class glob(Struct):
    ptr = field(None)


def writer(k, g):
    o = yield k.kmalloc(obj, data=42)
    yield k.WRITE_ONCE(g.ptr, o)


def reader(k, g):
    p = yield k.READ_ONCE(g.ptr)
    if p is not None:
        return (yield k.load(p.data))


def setup(m, cfg):
    g = m.new(glob)
    m.spawn("writer", writer, g)
    m.spawn("reader", reader, g)
    return g


MODEL = Model(name="mp", setup=setup)
'''


def _cli(*args: str, cwd: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctxcheck", *args], cwd=cwd, capture_output=True, text=True
    )


def test_check_and_replay_under_lkmm_from_the_command_line(tmp_path: Any) -> None:
    (tmp_path / "mp.py").write_text(MP_FILE)
    sc = _cli("check", "mp.py", "--quiet", cwd=tmp_path)
    assert sc.returncode == 0, sc.stdout + sc.stderr
    run = _cli("check", "mp.py", "--memory-model", "lkmm", "--trace-out", "t.json", "--json",
               "--quiet", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1, run.stderr
    out = json.loads(run.stdout)
    assert out["memory_model"] == "lkmm"
    assert {v["property"] for v in out["violations"]} == {"data_race", "memory_safety"}
    trace = json.loads((tmp_path / "t.memory_safety.json").read_text())
    assert trace["memory_model"] == "lkmm"
    again = _cli("replay", "t.memory_safety.json", "--model", "mp.py", cwd=tmp_path)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "not yet visible" in " ".join(again.stdout.split())
    lanes = _cli("render", "t.memory_safety.json", "--format", "lanes", cwd=tmp_path)
    assert lanes.returncode == 0, lanes.stderr
    assert ">stale: reads uninitialised memory" in lanes.stdout  # its own line in the box


def test_bad_memory_model_options_exit_2(tmp_path: Any) -> None:
    (tmp_path / "mp.py").write_text(MP_FILE)
    bad = _cli("check", "mp.py", "--memory-model", "tso", cwd=tmp_path)
    assert bad.returncode == 2 and "invalid choice: 'tso'" in bad.stderr
    refused = _cli("check", "mp.py", "--memory-model", "lkmm", "--explorer", "bfs", cwd=tmp_path)
    assert refused.returncode == 2
    assert "does not run under --memory-model lkmm" in refused.stderr
    split = _cli("check", "mp.py", "--memory-model", "lkmm", "--jobs", "2", cwd=tmp_path)
    assert split.returncode == 2 and "runs in one process" in split.stderr


def cas_publisher(k: Any, r: root, how: str) -> Generator[Any, Any, None]:
    o = yield k.kmalloc(box, data=42)
    if "wmb" in how:
        yield k.smp_wmb()
    cas = k.cmpxchg_relaxed if "relaxed" in how else k.cmpxchg
    yield cas(r.ptr, None, o)


def cas_setup(m: Any, cfg: Any) -> root:
    r = m.new(root, name="r")
    m.spawn("pub", cas_publisher, r, cfg.variant)
    m.spawn("sub", subscriber, r)
    return r


CAS_PUBLISH = Model(
    name="cas_publish",
    setup=cas_setup,
    variants=tuple(Variant(v) for v in ("full", "full-wmb", "relaxed", "relaxed-wmb")),
)


@pytest.mark.parametrize(
    ("variant", "holds"),
    [("full", True), ("full-wmb", True), ("relaxed", False), ("relaxed-wmb", True)],
)
def test_a_relaxed_cmpxchg_needs_the_barrier_a_full_one_does_not(variant: str, holds: bool) -> None:
    """The shapes of docs/reviewing-barriers.md, as a model: ctx-publish+relaxed+nowmb+oncereader
    is Sometimes, the others Never."""
    result = ctxcheck.check(CAS_PUBLISH, variant=variant, memory_model="lkmm")
    assert (result.verdict == "holds") is holds, result.summary()
    if not holds:
        result.assert_violates("memory_safety")
    assert ctxcheck.check(CAS_PUBLISH, variant=variant).verdict == "holds"


def _drops_a_barrier(k: Any, r: root) -> Generator[Any, Any, None]:
    k.smp_wmb()  # built, never yielded: a model bug
    yield k.READ_ONCE(r.ptr)


def test_a_barrier_built_but_not_yielded_is_a_model_error() -> None:
    def setup(m: Any, cfg: Any) -> root:
        r = m.new(root, name="r")
        m.spawn("t", _drops_a_barrier, r)
        return r

    with pytest.raises(ctxcheck.ModelError, match="smp_wmb"):
        ctxcheck.check(Model(name="dropped", setup=setup))
