"""``Property.returns``: a property of what threads return, judged as each one returns.

A final property judges the state where every thread has finished, so its
counterexample runs every thread to its end (the deciding step only marks
where the outcome became certain). A result never changes once its thread
has returned: a property that looks only at results is decided at that
step, so its counterexample stops there, the other threads wherever they
are, and replays to the same violation.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ctxcheck
from ctxcheck import Cell, Machine, Model, ModelError, Property, Struct, field
from ctxcheck.kernel import Kernel, Steps
from models.examples import seqcount

REPO = Path(__file__).resolve().parent.parent

MODEL_FILE = '''\
"""examples.seqcount with its torn read judged as each reader returns."""
import dataclasses

from ctxcheck import Property
from models.examples import seqcount


def torn(name, result):
    if name.startswith("reader") and result[0] != result[1]:
        return f"{name} returned {result}: half of a write"
    return None


MODEL = dataclasses.replace(
    seqcount.MODEL, name="seqcount_returns", expectations=(),
    properties=(Property.returns("no_torn_read", "each reader returns one write", torn),),
)
'''


def torn(name: str, result: Any) -> str | None:
    """A reader's pair of words comes from one write."""
    if name.startswith("reader") and result[0] != result[1]:
        return f"{name} returned {result}: half of a write"
    return None


RETURNS = dataclasses.replace(
    seqcount.MODEL,
    name="seqcount_returns",
    expectations=(),
    properties=(Property.returns("no_torn_read", "each reader returns one write", torn),),
)


@pytest.mark.parametrize(
    ("explorer", "readers"), [("naive", 1), ("dpor", 1), ("dpor", 2), ("bfs", 1)]
)
def test_the_verdicts_are_those_of_the_final_property(explorer: str, readers: int) -> None:
    """The same claim judged on returns or at the end: the same verdicts, the same search.

    Judging a result reads no shared memory, so it must not cost the
    reduction anything: where both hold, both explore the same executions.
    """
    kw: dict[str, Any] = {"explorer": explorer, "writers": 1, "readers": readers}
    final = ctxcheck.check(seqcount.MODEL, variant="correct", **kw)
    ours = ctxcheck.check(RETURNS, variant="correct", **kw)
    assert ours.verdict == final.verdict == "holds" and ours.exhaustive
    assert ours.stats.executions == final.stats.executions
    final = ctxcheck.check(seqcount.MODEL, variant="buggy", stop_on_first=True, **kw)
    ours = ctxcheck.check(RETURNS, variant="buggy", stop_on_first=True, **kw)
    assert ours.verdict == final.verdict == "violated"


def test_the_counterexample_stops_where_the_reader_returns() -> None:
    """The writer does not run to its end; the final property's trace runs everyone's."""
    final = ctxcheck.check(seqcount.MODEL, variant="buggy", writers=1, readers=1)
    ours = ctxcheck.check(RETURNS, variant="buggy", writers=1, readers=1)
    v = ours.assert_violates("no_torn_read")
    end = final.assert_violates("no_torn_read")
    assert v.minimal == "shortest" and (v.steps, end.steps) == (8, 12)  # docs/seqcount.md
    last = v.events[-1]
    assert (last.thread, last.function) == ("reader0", "read_seqcount_retry")
    assert "spin_unlock(sc.lock)" not in [e.text for e in v.events]  # writer0 stopped early
    assert v.results == {"reader0": "(1, 0)"} and v.message.startswith("reader0 returned")
    assert v.decided_step is None and v.decided_note is None  # decided at its own step


def test_the_early_stop_replays_to_the_same_violation(tmp_path: Path) -> None:
    model = tmp_path / "seqcount_returns.py"
    model.write_text(MODEL_FILE)
    trace = tmp_path / "torn.json"
    params = ["--param", "writers=1", "--param", "readers=1"]
    check = _cli("check", str(model), "--variant", "buggy", *params, "--trace-out", str(trace))
    assert check.returncode == 1, check.stderr
    replay = _cli("replay", str(trace), "--model", str(model), "--json")
    assert replay.returncode == 1, replay.stderr
    recorded = json.loads(trace.read_text())
    (again,) = json.loads(replay.stdout)["violations"]
    assert (again["property"], again["message"]) == (recorded["property"], recorded["message"])
    assert again["steps"] == recorded["steps"] == 8


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctxcheck", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )


class box(Struct):
    value: Cell = field(0)


def returns_the_box(k: Kernel, b: box) -> Steps:
    yield k.store(b.value, 1)
    return b


def test_a_result_check_that_reads_shared_memory_is_a_model_error() -> None:
    """A returned struct's cells may still change: reading them is not judging a result."""

    def setup(m: Machine, cfg: ctxcheck.Config) -> box:
        b = m.new(box, name="b")
        m.spawn("T", returns_the_box, b)
        return b

    peeks = Property.returns("peek", "", lambda name, b: None if b.value.value else "zero")
    model = Model(name="peek", setup=lambda m, cfg: setup(m, cfg), properties=(peeks,))
    with pytest.raises(ModelError, match="property peek read shared memory while judging"):
        ctxcheck.check(model, explorer="naive")


def test_list_says_what_kind_of_property_it_is() -> None:
    kinds = {p["name"]: p["kind"] for p in RETURNS.describe()["properties"]}
    assert kinds["no_torn_read"] == "returns"
    assert {p["name"]: p["kind"] for p in seqcount.MODEL.describe()["properties"]}[
        "no_torn_read"
    ] == "final"
    assert RETURNS.invariants() == [] and [p.name for p in RETURNS.result_properties()] == [
        "no_torn_read"
    ]
