"""Differential tests: every exhaustive explorer agrees on generated programs.

On each program from :func:`ctxcheck.oracles.programs.programs`: ``naive``, ``dpor``,
``odpor`` and ``bfs`` give the same verdict and the same set of violated
properties; ``dpor`` never runs more executions than ``naive``; ``odpor``
runs exactly one execution per Mazurkiewicz trace, counted independently
from ``naive``'s executions (:mod:`mazurkiewicz`), and none is blocked.

The normal suite runs a modest number of programs. The large run (10,000
programs) is marked ``slow`` and runs only with ``CTXCHECK_LARGE=1``::

    CTXCHECK_LARGE=1 pytest tests/test_differential.py -m slow

The programs that once broke ``dpor`` are pinned below as regressions.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, seed, settings
from mazurkiewicz import TraceCount, naive_and_traces

from ctxcheck.explorers import Outcome, get_explorer
from ctxcheck.options import Bounds
from ctxcheck.oracles.programs import Instr, Program, programs

EXHAUSTIVE = ("naive", "dpor", "odpor", "bfs")
LARGE = int(os.environ.get("CTXCHECK_LARGE_EXAMPLES", "10000"))
#: a fixed default, so that the figures recorded in BENCHMARKS.md can be reproduced
LARGE_SEED = int(os.environ.get("CTXCHECK_LARGE_SEED", "0"))


def run(program: Program, explorer: str) -> Outcome:
    model = program.model()
    config = model.config(None, {})
    return get_explorer(explorer)(model, config, Bounds(max_steps=model.max_steps)).run()


@dataclass
class Agreement:
    """What the explorers reported on one program, once they were found to agree."""

    outcomes: dict[str, Outcome]
    traces: TraceCount


def check_agreement(program: Program) -> Agreement:
    """Everything the differential suite promises, for one program."""
    naive, traces = naive_and_traces(program.model())
    out = {"naive": naive, **{name: run(program, name) for name in EXHAUSTIVE[1:]}}
    verdicts = {name: sorted(o.discoveries) for name, o in out.items()}
    assert len({tuple(v) for v in verdicts.values()}) == 1, f"{program!r}\n{verdicts}"
    assert all(o.exhaustive for o in out.values())
    dpor, odpor = out["dpor"].stats, out["odpor"].stats
    assert dpor.executions <= naive.stats.executions, repr(program)
    assert traces.executions == naive.stats.executions
    assert odpor.executions == traces.traces, f"{program!r}\n{traces} {odpor}"
    assert odpor.blocked == 0
    assert dpor.executions + dpor.blocked >= traces.coarse
    # naive ran every execution and kept the shortest violation of each
    # property: breadth-first search must find one just as short
    for prop, found in naive.discoveries.items():
        bfs = out["bfs"].discoveries[prop]
        assert len(bfs.schedule) == len(found.schedule), f"{program!r}\n{prop}"
    return Agreement(out, traces)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_interleavings=200))
def test_exhaustive_explorers_agree(program: Program) -> None:
    check_agreement(program)


@dataclass
class Tally:
    """The large run's figures, summed over its programs (for BENCHMARKS.md)."""

    programs: int = 0
    distinct: set[str] = field(default_factory=set)
    violated: int = 0
    by_property: Counter[str] = field(default_factory=Counter)
    executions: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    bfs_states: int = 0
    traces: int = 0
    coarse: int = 0
    odpor_is_traces: int = 0
    dpor_is_traces: int = 0
    dpor_is_coarse: int = 0
    threads: Counter[int] = field(default_factory=Counter)

    def add(self, program: Program, agreed: Agreement) -> None:
        out = agreed.outcomes
        self.programs += 1
        self.distinct.add(repr(program))
        self.threads[len(program.threads)] += 1
        found = out["naive"].discoveries
        self.violated += bool(found)
        self.by_property.update(found.keys())
        for name, o in out.items():
            self.executions[name] += o.stats.executions
            self.blocked[name] += o.stats.blocked
            self.seconds[name] += o.stats.seconds
        self.bfs_states += out["bfs"].stats.states or 0
        self.traces += agreed.traces.traces
        self.coarse += agreed.traces.coarse
        self.odpor_is_traces += out["odpor"].stats.executions == agreed.traces.traces
        self.dpor_is_traces += out["dpor"].stats.executions == agreed.traces.traces
        self.dpor_is_coarse += out["dpor"].stats.executions == agreed.traces.coarse

    def summary(self, wall: float) -> dict[str, object]:
        naive = self.executions["naive"]
        return {
            "programs": self.programs,
            "distinct_programs": len(self.distinct),
            "threads": dict(sorted(self.threads.items())),
            "violated": self.violated,
            "violated_by_property": dict(sorted(self.by_property.items())),
            "executions": dict(self.executions),
            "blocked": dict(self.blocked),
            "explorer_seconds": {k: round(v, 1) for k, v in self.seconds.items()},
            "bfs_states": self.bfs_states,
            "mazurkiewicz_traces": self.traces,
            "traces_without_creation_order": self.coarse,
            "odpor_equals_traces": self.odpor_is_traces,
            "dpor_equals_traces": self.dpor_is_traces,
            "dpor_equals_traces_without_creation_order": self.dpor_is_coarse,
            "dpor_over_naive": round(self.executions["dpor"] / naive, 4) if naive else None,
            "seed": LARGE_SEED,
            "wall_seconds": round(wall, 1),
        }


if os.environ.get("CTXCHECK_LARGE"):

    @pytest.mark.slow
    def test_exhaustive_explorers_agree_large(capsys: pytest.CaptureFixture[str]) -> None:
        """The large run: defined only when asked for, so it is never skipped.

        Prints its figures (and progress every 500 programs) past pytest's
        capture, and writes them as JSON to ``$CTXCHECK_LARGE_REPORT`` if set.
        """
        tally = Tally()
        start = time.monotonic()

        @seed(LARGE_SEED)
        @settings(
            max_examples=LARGE,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(programs())
        def agree(program: Program) -> None:
            tally.add(program, check_agreement(program))
            if tally.programs % 500 == 0:
                with capsys.disabled():
                    print(
                        f"\n{tally.programs} programs, {time.monotonic() - start:.0f} s", flush=True
                    )

        agree()
        figures = tally.summary(time.monotonic() - start)
        text = json.dumps(figures, indent=1)
        with capsys.disabled():
            print("\n" + text, flush=True)
        report = os.environ.get("CTXCHECK_LARGE_REPORT")
        if report:
            with open(report, "w") as f:
                f.write(text + "\n")
        assert tally.programs >= LARGE
        assert tally.odpor_is_traces == tally.programs


# ------------------------------------------------------------ regressions


def _p(
    *threads: tuple[Instr, ...], final_bad: int = 3, invariant: tuple[int, int, int] | None = None
) -> Program:
    return Program(tuple(threads), final_bad, invariant)


LOAD0, INC0 = Instr("load", (0,)), Instr("inc", (0,))

REGRESSIONS = {
    # a violation in one thread (BUG_ON) hid a double list_del that another
    # order of independent steps reaches first: a violation races with all
    "violation_hides_violation": _p(
        (INC0,),
        (Instr("bug_on", (1, 0)),),
        (Instr("list_del", (1,)),),
        (Instr("list_empty"), Instr("list_del", (1,))),
    ),
    # an invariant over two cells fails only between two writes to different
    # cells: writes observed by invariants are ordered
    "invariant_between_independent_writes": _p(
        (Instr("store", (0, 1)), Instr("store", (0, 0))),
        (Instr("store", (1, 1)), Instr("store", (1, 0))),
        invariant=(0, 1, 2),
    ),
    # the release of the first holder is ordered before the second
    # acquisition through the invariant too: acquisitions must still race
    "acquisitions_race_past_the_critical_section": _p(
        (Instr("locked", (0,), (LOAD0,)),),
        (Instr("locked", (0,), (LOAD0,)),),
        invariant=(0, 0, 4),
    ),
    # the violation cuts the run while the other thread waits for the lock:
    # its pending acquisition still races with the holder's
    "pending_acquisition_of_a_cut_run": _p(
        (Instr("locked", (0,), (Instr("store", (0, 1)),)),),
        (Instr("locked", (0,), (LOAD0,)),),
        invariant=(0, 0, 2),
    ),
    # the violating step races with a thread whose step it does not touch
    "violation_versus_independent_pending_step": _p(
        (Instr("inc", (1,)),),
        (Instr("bug_on", (1, 0)),),
        (LOAD0,),
    ),
    # bfs merged T1 after its first and after its third instruction: same
    # code position, same locals; only the for loop's iterator differs
    "bfs_loop_position": _p(
        (LOAD0,), (Instr("list_empty"), LOAD0, Instr("list_empty")), final_bad=0
    ),
    # odpor offered list_add e1, moved before list_add e0, with the footprint
    # it had after it (head.next was e0): the false conflict made it a new
    # wakeup-tree leaf, which then swallowed the reversal leading to one of
    # the 18 traces
    "odpor_moved_step_footprint": _p(
        (Instr("list_add", (0,)),),
        (Instr("list_del", (0,)),),
        (Instr("list_add", (1,)),),
        (Instr("list_empty"),),
    ),
    # outcomes of a choice are distinct events of one thread
    "choice_outcomes": _p(
        (Instr("bug_on", (0, 1)), Instr("store", (0, 0))),
        (LOAD0,),
        (LOAD0,),
        (Instr("choose", (0, 2)),),
    ),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(name: str) -> None:
    check_agreement(REGRESSIONS[name])


def test_regressions_do_violate_what_naive_finds() -> None:
    naive = run(REGRESSIONS["violation_hides_violation"], "naive")
    assert {"bug_on", "list_integrity"} <= naive.discoveries.keys()
    assert (
        "invariant" in run(REGRESSIONS["invariant_between_independent_writes"], "naive").discoveries
    )


def test_odpor_regression_counts_every_trace() -> None:
    program = REGRESSIONS["odpor_moved_step_footprint"]
    assert run(program, "odpor").stats.executions == 18


def test_programs_build_checkable_models() -> None:
    program = _p((LOAD0, Instr("store", (0, -1))), (Instr("alloc", (0,)), Instr("free", (0,))))
    assert "T0: load 0; store 0 -1" in repr(program)
    assert program.interleavings() >= 2
    out = run(program, "naive")
    assert out.exhaustive and out.stats.executions > 1
