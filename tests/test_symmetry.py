"""Symmetry reduction and state caching, held to the unreduced stateful search.

On generated programs whose first threads run one body and are declared
symmetric (:func:`ctxcheck.oracles.programs.symmetric_programs`): ``bfs``
without symmetry is the reference; ``bfs`` with it, and ``stateful`` with
and without it, give the same verdict and the same violated properties;
``bfs`` with symmetry finds counterexamples as short as without; every
counterexample replays to its violation. Sleep sets reach every state, so
``stateful`` stores exactly as many states as ``bfs`` does under the same
fingerprint (a count that goes wrong when a state is missed, or when the
canonical image of one class is not unique). Known counts: N threads of k
commuting increments have (k+1)**N states, and C(N+k, k) up to symmetry.

``CTXCHECK_SYMMETRY_EXAMPLES`` sets how many programs (1,000 by default).
"""

from __future__ import annotations

import os
from math import comb

import pytest
from hypothesis import HealthCheck, given, seed, settings

from ctxcheck import Cell, Model, Struct, field
from ctxcheck.errors import ModelError
from ctxcheck.explorers import Outcome, get_explorer
from ctxcheck.explorers.path import follow
from ctxcheck.fingerprint import fingerprint
from ctxcheck.options import Bounds
from ctxcheck.oracles.programs import Instr, Program, symmetric_programs
from ctxcheck.runtime import Execution, SearchState
from ctxcheck.symmetry import Symmetry

EXAMPLES = int(os.environ.get("CTXCHECK_SYMMETRY_EXAMPLES", "1000"))


def run(model: Model, explorer: str, params: dict[str, int] | None = None,
        variant: str | None = None, **knobs: bool) -> Outcome:  # fmt: skip
    config = model.config(variant, params or {})
    cls = get_explorer(explorer)
    return cls(model, config, Bounds(max_steps=model.max_steps), **knobs).run()


def replays(model: Model, out: Outcome, variant: str | None = None,
            params: dict[str, int] | None = None) -> None:  # fmt: skip
    """Every counterexample is a real schedule that ends in its violation."""
    config = model.config(variant, params or {})
    for prop, found in out.discoveries.items():
        ex = Execution(model, config, model.max_steps)
        ex.replay(found.schedule)
        assert ex.violation is not None and ex.violation.prop == prop, (prop, found.schedule)


def agree(program: Program) -> dict[str, Outcome]:
    model = program.model()
    ref = run(model, "bfs", symmetry=False)
    out = {
        "bfs": run(model, "bfs"),
        "stateful": run(model, "stateful"),
        "stateful-nosym": run(model, "stateful", symmetry=False),
    }
    verdict = sorted(ref.discoveries)
    for name, o in out.items():
        assert o.exhaustive, (program, name)
        assert sorted(o.discoveries) == verdict, f"{program!r}\n{name}: {sorted(o.discoveries)}"
        replays(model, o)
    for prop, found in ref.discoveries.items():
        assert len(out["bfs"].discoveries[prop].schedule) == len(found.schedule), (program, prop)
    assert out["stateful-nosym"].stats.states == ref.stats.states, program
    assert out["stateful"].stats.states == out["bfs"].stats.states, program
    assert out["bfs"].stats.states is not None and ref.stats.states is not None
    assert out["bfs"].stats.states <= ref.stats.states
    return {"ref": ref, **out}


@seed(14)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)  # fmt: skip
@given(symmetric_programs(max_members=3, max_others=1, max_instructions=2, max_interleavings=40))
def test_symmetric_and_caching_searches_agree_with_the_unreduced_search(program: Program) -> None:
    agree(program)


def test_symmetry_reduces_where_members_differ_in_position() -> None:
    body = (Instr("load", (0,)), Instr("store", (0, -1)))
    program = Program((body, body, body), final_bad=0, symmetric=3)
    out = agree(program)
    assert set(out["ref"].discoveries) == set(out["bfs"].discoveries) == set()
    assert out["bfs"].stats.states is not None and out["ref"].stats.states is not None
    assert out["bfs"].stats.states * 2 < out["ref"].stats.states
    assert out["bfs"].stats.reduction == "symmetry of T (3 threads)"
    assert out["stateful"].stats.reduction == (
        "state caching, sleep sets, symmetry of T (3 threads)"
    )


# ------------------------------------------------------------ known counts


class counters(Struct):
    c: Cell = field(0)


def incrementers(n: int, k: int, symmetric: bool) -> Model:
    def inc(kern, s):  # type: ignore[no-untyped-def]
        for _ in range(k):
            yield kern.atomic_inc(s.c)

    def setup(m, cfg):  # type: ignore[no-untyped-def]
        s = m.new(counters, name="s")
        for i in range(n):
            m.spawn(f"I{i}", inc, s, symmetric="I" if symmetric else None)
        return s

    return Model("incrementers", setup)


@pytest.mark.parametrize(("n", "k"), [(1, 1), (2, 1), (3, 1), (3, 2), (4, 1), (2, 3)])
@pytest.mark.parametrize("explorer", ["bfs", "stateful"])
def test_known_counts_of_states(n: int, k: int, explorer: str) -> None:
    """(k+1)**n states: each thread's position; C(n+k, k) classes: how many are where."""
    plain = run(incrementers(n, k, symmetric=False), explorer)
    assert plain.stats.states == (k + 1) ** n
    sym = run(incrementers(n, k, symmetric=True), explorer)
    assert sym.stats.states == comb(n + k, k)
    declared_off = run(incrementers(n, k, symmetric=True), explorer, symmetry=False)
    assert declared_off.stats.states == (k + 1) ** n


@pytest.mark.parametrize(("openers", "states"), [(2, 43), (3, 218)])
def test_spin_ctx_create_counts_one_state_per_class(openers: int, states: int) -> None:
    from models.spin.ctx_create import MODEL

    params = {"openers": openers}
    for explorer in ("bfs", "stateful"):
        out = run(MODEL, explorer, params, "post")
        assert out.exhaustive and not out.discoveries
        assert out.stats.states == states, explorer


@pytest.mark.parametrize("variant", ["mutant-no-cmpxchg", "mutant-blind-store"])
@pytest.mark.parametrize("explorer", ["bfs", "stateful"])
def test_spin_ctx_create_mutants_are_caught_with_concrete_schedules(
    variant: str, explorer: str
) -> None:
    from models.spin.ctx_create import MODEL

    params = {"openers": 3}
    out = run(MODEL, explorer, params, variant)
    assert set(out.discoveries) == {"one_ctx_per_task"}
    replays(MODEL, out, variant, params)
    if explorer == "bfs":  # as short as without symmetry
        ref = run(MODEL, "bfs", params, variant, symmetry=False)
        assert len(out.discoveries["one_ctx_per_task"].schedule) == len(
            ref.discoveries["one_ctx_per_task"].schedule
        )


# ------------------------------------------------------------ the declaration


class slot(Struct):
    v: Cell = field(0)


def _declared(setup):  # type: ignore[no-untyped-def]
    model = Model("declared", setup)
    ex = SearchState(model, model.config(None, {})).execution()
    return Symmetry(ex)


def _worker(k, s, mine, n=0):  # type: ignore[no-untyped-def]
    yield k.store(mine.v, 1)


def test_members_that_differ_in_a_plain_argument_are_refused() -> None:
    def setup(m, cfg):  # type: ignore[no-untyped-def]
        s = m.new(slot, name="s")
        for i in range(2):
            m.spawn(f"W{i}", _worker, s, m.new(slot, name=f"own{i}"), i, symmetric="W")

    with pytest.raises(ModelError, match="argument 3 differs"):
        _declared(setup)


def test_members_running_other_code_are_refused() -> None:
    def other(k, s, mine, n=0):  # type: ignore[no-untyped-def]
        yield k.store(mine.v, 2)

    def setup(m, cfg):  # type: ignore[no-untyped-def]
        s = m.new(slot, name="s")
        m.spawn("W0", _worker, s, m.new(slot, name="own0"), symmetric="W")
        m.spawn("W1", other, s, m.new(slot, name="own1"), symmetric="W")

    with pytest.raises(ModelError, match=r"runs .*other"):
        _declared(setup)


def test_members_whose_objects_start_differently_are_refused() -> None:
    def setup(m, cfg):  # type: ignore[no-untyped-def]
        s = m.new(slot, name="s")
        for i in range(2):
            m.spawn(f"W{i}", _worker, s, m.new(slot, name=f"own{i}", v=i), symmetric="W")

    with pytest.raises(ModelError, match="not interchangeable in the initial state"):
        _declared(setup)


def test_a_shared_object_naming_one_member_is_refused() -> None:
    def setup(m, cfg):  # type: ignore[no-untyped-def]
        s = m.new(slot, name="s")
        owns = [m.new(slot, name=f"own{i}") for i in range(2)]
        s.v.value = owns[0]  # the shared cell points at W0's object only
        for i in range(2):
            m.spawn(f"W{i}", _worker, s, owns[i], symmetric="W")

    with pytest.raises(ModelError, match="not interchangeable"):
        _declared(setup)


def test_owned_objects_and_member_tables() -> None:
    def setup(m, cfg):  # type: ignore[no-untyped-def]
        s = m.new(slot, name="s")
        owns = [m.new(slot, name=f"own{i}") for i in range(3)]
        for i in range(3):
            m.spawn(f"W{i}", _worker, s, owns[i], symmetric="W")
        return owns  # a table of one object per member: left as it is

    sym = _declared(setup)
    assert sym.describe() == "symmetry of W (3 threads)"
    assert sym.groups == [("W", [0, 1, 2])]


# ------------------------------------------------------------ fingerprints


def test_fingerprints_tell_which_object_holds_which_value() -> None:
    """Objects allocated in another order, with the values swapped, are another state."""
    program = Program(
        ((Instr("alloc", (0,)),), (Instr("alloc", (1,)),), (Instr("deref", (0, 1)),),
         (Instr("deref", (1, 1)),)),
        final_bad=9,
    )  # fmt: skip
    model = program.model()
    search = SearchState(model, model.config(None, {}), 200)
    # T3 finds p1 empty; A allocated first; T2 writes A's node
    first = [(3, 0), (0, 0), (0, 0), (1, 0), (1, 0), (2, 0), (2, 0)]
    # T2 finds p0 empty; B allocated first; T3 writes B's node
    second = [(2, 0), (1, 0), (0, 0), (0, 0), (1, 0), (3, 0), (3, 0)]
    a, b = (follow(search.execution, s) for s in (first, second))
    assert a.finished and b.finished
    assert fingerprint(a) != fingerprint(b)


def test_a_live_execution_fingerprints_as_its_replay() -> None:
    body = (Instr("spin", (0, 1, 0)),)
    model = Program((body, body), final_bad=0, spin_retries=2, symmetric=2).model()
    search = SearchState(model, model.config(None, {}), 200)
    live = search.execution()
    fingerprint(live)  # asks every frame for its locals before the loop binds its names
    live.step(0, 0)
    assert fingerprint(live) == fingerprint(follow(search.execution, [(0, 0)]))
