"""The wait primitives (``spin_until``, ``smp_cond_load_*``) against the loops they stand for.

A spin-wait is one step, not enabled until its condition holds. On
generated programs (:func:`ctxcheck.oracles.programs.spin_programs`) it must
give the verdicts of the same program with every wait written as a bounded
retry loop of loads (:func:`~ctxcheck.oracles.programs.as_spin_loop`): the
same set of violated properties, where a wait that can never be satisfied
is a ``deadlock`` for the primitive and a loop that gave up while what it
waited for stayed false (``spin_stuck``) for the loop. Both under ``bfs``
(every state) and ``dpor`` (the reduction must stay sound with waits that
block and wake).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from ctxcheck import Cell, Model, Property, Struct, check, field
from ctxcheck.errors import ModelError
from ctxcheck.explorers import Outcome, get_explorer
from ctxcheck.kernel import Kernel, Steps
from ctxcheck.machine import Machine
from ctxcheck.model import Config
from ctxcheck.options import Bounds
from ctxcheck.oracles.programs import Instr, Program, as_spin_loop, spin_programs


def run(program: Program, explorer: str) -> Outcome:
    model = program.model()
    config = model.config(None, {})
    return get_explorer(explorer)(model, config, Bounds(max_steps=model.max_steps)).run()


def verdicts(program: Program) -> dict[str, list[str]]:
    loop = as_spin_loop(program)
    out = {
        "until/dpor": run(program, "dpor"),
        "until/bfs": run(program, "bfs"),
        "loop/bfs": run(loop, "bfs"),
        "loop/dpor": run(loop, "dpor"),
    }
    assert all(o.exhaustive for o in out.values())
    rename = {"spin_stuck": "deadlock"}
    return {k: sorted(rename.get(p, p) for p in o.discoveries) for k, o in out.items()}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spin_programs())
def test_spin_until_gives_the_verdicts_of_the_retry_loop(program: Program) -> None:
    found = verdicts(program)
    assert len({tuple(v) for v in found.values()}) == 1, f"{program!r}\n{found}"
    assert "termination" not in found["until/dpor"]


def _p(*threads: tuple[Instr, ...], final_bad: int = 3) -> Program:
    return Program(tuple(threads), final_bad)


def SPIN(c: int, v: int, f: int = 0) -> Instr:  # noqa: N802
    return Instr("spin", (c, v, f))


PINNED = {
    # a wait that one writer satisfies and another undoes: woken, or stuck
    "wake_then_undo": (
        _p((SPIN(0, 1),), (Instr("store", (0, 1)),), (Instr("store", (0, 2)),)),
        ["deadlock"],
    ),
    # the wait is always satisfied in the end: no deadlock, no termination
    "always_woken": (
        _p((SPIN(1, 1, 1), Instr("store", (0, 3))), (Instr("inc", (1,)),)),
        ["final_value"],
    ),
    # two waiters, each waiting for the other: deadlock both ways
    "wait_for_each_other": (
        _p((SPIN(0, 1), Instr("store", (1, 1))), (SPIN(1, 1, 1), Instr("store", (0, 1)))),
        ["deadlock"],
    ),
    # woken while c0 is 1, the reader may still see it (BUG_ON); or never woken
    "woken_then_bug_on": (
        _p((SPIN(0, 1), Instr("bug_on", (0, 1))), (Instr("store", (0, 1)), Instr("store", (0, 2)))),
        ["bug_on", "deadlock"],
    ),
}


def test_pinned_spin_programs() -> None:
    for name, (program, expected) in PINNED.items():
        found = verdicts(program)
        for how, props in found.items():
            assert props == expected, f"{name} {how}: {props}"


# ----------------------------------------------------- the primitive, by hand


class flags(Struct):
    flag: Cell = field(0)
    x: Cell = field(0)


def _writer(k: Kernel, d: flags) -> Steps:
    yield k.store(d.x, 42)
    yield k.store(d.flag, 1)


def _reader(k: Kernel, d: flags) -> Steps:
    yield k.spin_until(lambda: d.flag.value == 1, reads=(d.flag,))
    return (yield k.load(d.x))


def _setup(reader: object) -> Model:
    def setup(m: Machine, cfg: Config) -> flags:
        d = m.new(flags)
        m.spawn("W", _writer, d)
        m.spawn("R", reader, d)
        return d

    def sees_42(m: Machine, d: flags) -> str | None:
        return None if m.threads[1].result == 42 else f"R returned {m.threads[1].result}"

    return Model("mp", setup, properties=(Property("sees_42", "", sees_42, final=True),))


def test_a_correct_spin_wait_holds_without_termination() -> None:
    for explorer in ("dpor", "odpor", "bfs", "naive", "bounded"):
        result = check(_setup(_reader), explorer=explorer)
        result.assert_holds()
    # the reader never spins through steps: one execution per ordering of real steps
    assert check(_setup(_reader), explorer="naive").stats.executions == 1


def _never(k: Kernel, d: flags) -> Steps:
    yield k.smp_cond_load_acquire(d.flag, lambda val: val == 7)


def test_a_wait_that_is_never_satisfied_is_a_deadlock_naming_the_waiter() -> None:
    for explorer in ("dpor", "bfs", "naive"):
        v = check(_setup(_never), explorer=explorer).assert_violates("deadlock")
        assert "R spins in smp_cond_load_acquire(flags#1.flag)" in v.message
        assert "flags#1.flag = 1" in v.message


def _undeclared(k: Kernel, d: flags) -> Steps:
    yield k.spin_until(lambda: d.flag.value == 1 and d.x.value, reads=(d.flag,))


def test_a_condition_reading_what_reads_does_not_name_is_a_model_error() -> None:
    try:
        check(_setup(_undeclared), explorer="dpor")
    except ModelError as exc:
        assert "read flags#1.x, which its reads= does not name" in str(exc)
    else:
        raise AssertionError("expected a ModelError")


# ------------------------------------------- termination: spin-wait or livelock


def _spin_loop(k: Kernel, d: flags) -> Steps:
    while not (yield k.load(d.flag)):
        pass
    return (yield k.load(d.x))


def _livelock(k: Kernel, d: flags) -> Steps:
    while True:
        yield k.atomic_inc(d.x)


def test_termination_tells_a_spin_wait_from_a_livelock() -> None:
    from ctxcheck.render.text import render_violation

    spin = check(_setup(_spin_loop), explorer="dpor", max_steps=40)
    v = spin.assert_violates("termination")
    assert "changed nothing, a spin-wait" in v.message and "k.spin_until" in v.message
    assert "raising --max-steps would not help" in v.message
    text = render_violation(spin, v)
    assert "\u00d7 " in text and "the same step)" in text  # the spin folded
    live = check(_setup(_livelock), explorer="dpor", max_steps=40)
    message = live.assert_violates("termination").message
    assert "kept changing state" in message and "raise --max-steps" in message
