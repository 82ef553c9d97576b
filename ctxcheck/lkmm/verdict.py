"""Run a litmus test and state its verdict as herd7 does.

herd7's ``Observation`` line says whether the final condition's proposition
holds in every final state of the allowed executions (Always), in some
(Sometimes) or in none (Never), whatever the quantifier; its ``States``
count is the number of distinct final states, each state being the values
of the registers and locations the condition and ``locations`` clause name.
Executions that fail the ``filter`` clause are dropped first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ctxcheck.lkmm.events import Addr, Value
from ctxcheck.lkmm.explore import Execution, Program, Stats, executions
from ctxcheck.lkmm.litmus import condition
from ctxcheck.lkmm.litmus.errors import LitmusError
from ctxcheck.lkmm.litmus.interp import program as thread_program
from ctxcheck.lkmm.litmus.parser import parse
from ctxcheck.lkmm.litmus.syntax import Test

State = tuple[tuple[str, Value], ...]


@dataclass
class Verdict:
    """The outcome of one litmus test under the LKMM."""

    test: Test
    result: str  # "Always" | "Sometimes" | "Never"
    states: list[State]
    matching: int  # states where the proposition holds
    data_race: bool
    flags: set[str]
    witness: Execution | None
    stats: Stats
    seconds: float
    executions: int = 0
    keys: list[str] = field(default_factory=list)

    @property
    def deadlock(self) -> bool:
        """No allowed execution reaches the end (or gets past the filter)."""
        return not self.states

    @property
    def agrees(self) -> bool:
        """Whether the verdict is the test's ``Result:`` line."""
        if self.test.expected == "DEADLOCK":
            return self.deadlock
        return self.result == self.test.expected


def load(path: str) -> Test:
    """Read and parse ``path``; LitmusError (naming the file) when it cannot."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LitmusError(f"cannot read the file: {err}", path=path) from None
    return parse(text, path)


def to_program(test: Test) -> Program:
    """The test as threads plus initial values (locks start unlocked)."""
    shared = set(test.init) | set(test.locks)
    shared.update(v for v in test.init.values() if isinstance(v, str))  # y=z names z
    for th in test.threads:
        shared.update(th.params)
    init: dict[str, Value] = {}
    for loc in sorted(shared):
        raw = test.init.get(loc, 0)
        if isinstance(raw, str):
            if raw not in shared:
                raise LitmusError(
                    f"{loc} starts as {raw}, which is no shared variable", path=test.path
                )
            init[loc] = Addr(raw)
        else:
            init[loc] = raw
    frozen = frozenset(shared)
    threads = []
    for th in test.threads:
        regs = {
            k.split(":")[1]: _value(v)
            for k, v in test.reg_init.items()
            if k.split(":")[0] == str(th.tid)
        }
        threads.append(thread_program(th, frozen, regs))
    return Program(tuple(threads), init)


def _value(raw: int | str) -> Value:
    return Addr(raw) if isinstance(raw, str) else raw


def observed_keys(test: Test) -> list[str]:
    """What a final state records: the locations clause, then the condition's."""
    keys: list[str] = []
    for k in list(test.locations) + [a.key for a in condition.atoms(test.cond)]:
        if k not in keys:
            keys.append(k)
    return keys


def final_state(ex: Execution, keys: list[str]) -> dict[str, Value]:
    """The values of ``keys`` at the end of ``ex``."""
    out: dict[str, Value] = {}
    for k in keys:
        if ":" in k:
            tid, reg = k.split(":", 1)
            regs = ex.results[int(tid)] if int(tid) < len(ex.results) else {}
            out[k] = regs.get(reg, 0)
        elif k in ex.graph.co:
            out[k] = ex.graph.final_value(k)
        else:
            out[k] = 0
    return out


def run_test(test: Test) -> Verdict:
    """Explore ``test`` under the LKMM and state its verdict.

    A thread that goes wrong while it runs (a dereference of a number, an
    unknown register) raises LitmusError naming the file and line.
    """
    try:
        return _run(test)
    except LitmusError as err:
        raise err.at(test.path) from None
    except RecursionError:
        raise LitmusError("expressions nested too deeply to run", path=test.path) from None


def _run(test: Test) -> Verdict:
    start = time.perf_counter()
    prog = to_program(test)
    keys = observed_keys(test)
    filter_keys = [a.key for a in condition.atoms(test.filter)] if test.filter else []
    stats = Stats()
    states: dict[State, bool] = {}
    witness: Execution | None = None
    race, count = False, 0
    flags: set[str] = set()
    want = test.quantifier != "forall"  # the witness: P holds (exists) or fails (forall)
    for ex in executions(prog, stats):
        if test.filter is not None and not condition.holds(
            test.filter, final_state(ex, filter_keys)
        ):
            continue
        count += 1
        state = final_state(ex, keys)
        ok = condition.holds(test.cond, state)
        states[tuple(state.items())] = ok
        flags |= ex.judgement.flags
        race = race or "data-race" in ex.judgement.flags
        if witness is None and ok == want:
            witness = ex
    matching = sum(states.values())
    result = "Never" if matching == 0 else ("Always" if matching == len(states) else "Sometimes")
    return Verdict(
        test,
        result,
        sorted(states, key=repr),
        matching,
        race,
        flags,
        witness if result == "Sometimes" else None,
        stats,
        time.perf_counter() - start,
        count,
        keys,
    )
