"""The ``ctxcheck`` command through a subprocess: commands, exit statuses, JSON contract.

Exit statuses (DESIGN.md): 0 holds exhaustively, 1 violated, 2 usage or
model error, 3 inconclusive. Error messages are tested in test_errors.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., "subprocess.CompletedProcess[str]"]

LOST = "examples.lost_update"
REPO = Path(__file__).resolve().parent.parent

#: a model whose final property raises KeyboardInterrupt at its 4th check
CTRL_C_MODEL = """
import itertools
from ctxcheck import Cell, Model, Property, Struct, field

class G(Struct):
    x: Cell = field(0)

def writer(k, g):
    yield k.store(g.x, 1)

def setup(m, cfg):
    g = m.new(G)
    for i in range(3):
        m.spawn(f"T{i}", writer, g)
    return g

checks = itertools.count()

def ctrl_c(m, g):
    if next(checks) == 3:
        raise KeyboardInterrupt
    return None

MODEL = Model("ctrl_c", setup, properties=(Property("ctrl_c", "", ctrl_c, final=True),))
"""


def _json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


# ------------------------------------------------------------ exit statuses


@pytest.mark.parametrize("explorer", ["naive", "dpor"])
def test_violation_exits_1_with_a_counterexample(cli: Cli, explorer: str) -> None:
    proc = cli("check", LOST, "--variant", "racy", "--explorer", explorer)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert f"{LOST}: VIOLATED: no_lost_update" in out
    assert "violates no_lost_update in 4 steps" in out
    assert "load(data.counter) = 0" in out
    assert "no_lost_update: counter is 1 after 2 increments" in out
    assert "Reproduce:" in out


@pytest.mark.parametrize("explorer", ["naive", "dpor"])
@pytest.mark.parametrize("variant", ["atomic", "locked"])
def test_fixed_variant_exits_0_and_states_its_bounds(cli: Cli, explorer: str, variant: str) -> None:
    proc = cli("check", LOST, "--variant", variant, "--explorer", explorer)
    assert proc.returncode == 0, proc.stderr
    assert (
        f"{LOST}: holds for every schedule (variant {variant}, threads=2, "
        f"max 500 steps per execution; {explorer}:"
    ) in proc.stdout


def test_budget_cut_exits_3(cli: Cli) -> None:
    proc = cli("check", LOST, "--variant", "atomic", "--param", "threads=4",
               "--explorer", "naive", "--max-executions", "2")  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "inconclusive (search stopped: max_executions=2)" in proc.stdout


def test_step_bound_violation_is_reported_not_hung(cli: Cli) -> None:
    proc = cli("check", LOST, "--variant", "locked", "--max-steps", "3")
    assert proc.returncode == 1
    assert "VIOLATED: termination" in proc.stdout
    assert "did not finish within 3 steps" in proc.stdout


@pytest.mark.parametrize("explorer", ["dpor", "naive", "bounded"])
def test_a_seed_the_explorer_ignores_is_warned_about(cli: Cli, explorer: str) -> None:
    proc = cli("check", LOST, "--variant", "atomic", "--explorer", explorer, "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    assert (
        f"ctxcheck: warning: --seed is ignored by explorer {explorer} (it is not random; "
        f"random, pct take it)"
    ) in proc.stderr


@pytest.mark.parametrize("explorer", ["random", "pct"])
def test_a_seed_the_explorer_takes_is_not_warned_about(cli: Cli, explorer: str) -> None:
    proc = cli("check", LOST, "--variant", "atomic", "--explorer", explorer, "--seed", "7",
               "--max-executions", "5")  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "warning" not in proc.stderr


def test_usage_error_exits_2(cli: Cli) -> None:
    proc = cli("check", "no.such.model")
    assert proc.returncode == 2
    assert proc.stdout == ""


def test_model_given_as_a_file_path(cli: Cli, tmp_path: Path) -> None:
    path = REPO / "models" / "examples" / "lost_update.py"
    proc = cli("check", str(path), "--variant", "atomic", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "holds for every schedule" in proc.stdout


def test_works_from_another_directory(cli: Cli, tmp_path: Path) -> None:
    proc = cli("check", LOST, "--variant", "racy", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr


# ---------------------------------------------------------------- --json


def test_check_json_follows_the_contract(cli: Cli) -> None:
    proc = cli("check", LOST, "--variant", "racy", "--json")
    assert proc.returncode == 1
    data = _json(proc)
    contract = {"model", "variant", "params", "explorer", "verdict", "exhaustive", "bounds",
                "violations", "stats"}  # fmt: skip
    assert contract <= data.keys()
    assert data["model"] == LOST
    assert data["variant"] == "racy"
    assert data["params"] == {"threads": 2}
    assert data["explorer"] == "dpor"
    assert data["verdict"] == "violated"
    assert data["exhaustive"] is True
    assert data["bounds"] == {
        "max_steps": 500, "max_executions": None, "timeout": None, "max_preemptions": None,
    }  # fmt: skip
    (v,) = data["violations"]
    assert {"property", "message", "steps", "preemptions", "trace_file"} <= v.keys()
    assert v["property"] == "no_lost_update"
    assert v["message"] == "counter is 1 after 2 increments"
    assert isinstance(v["steps"], int) and v["steps"] == 4
    assert isinstance(v["preemptions"], int) and v["preemptions"] >= 1
    assert v["trace_file"] is None
    stats = data["stats"]
    assert {"executions", "blocked", "states", "steps", "seconds"} <= stats.keys()
    for key in ("executions", "blocked", "steps"):
        assert isinstance(stats[key], int) and not isinstance(stats[key], bool)
    assert stats["executions"] >= 1 and stats["steps"] >= 4
    assert stats["states"] is None  # dpor is stateless
    assert isinstance(stats["seconds"], int | float)


@pytest.mark.parametrize(
    ("args", "verdict", "status"),
    [
        (["--variant", "atomic"], "holds", 0),
        (["--variant", "atomic", "--param", "threads=4", "--max-executions", "1"],
         "inconclusive", 3),
    ],
)  # fmt: skip
def test_json_verdicts_match_exit_status(
    cli: Cli, args: list[str], verdict: str, status: int
) -> None:
    proc = cli("check", LOST, "--explorer", "naive", "--json", *args)
    assert proc.returncode == status
    data = _json(proc)
    assert data["verdict"] == verdict
    assert data["exhaustive"] is (verdict == "holds")
    assert data["violations"] == []
    assert data["explorer"] == "naive"


def test_json_bounds_echo_the_options(cli: Cli) -> None:
    proc = cli("check", LOST, "--variant", "atomic", "--json", "--max-steps", "40",
               "--max-executions", "1000", "--timeout", "600")  # fmt: skip
    assert proc.returncode == 0
    assert _json(proc)["bounds"] == {
        "max_steps": 40, "max_executions": 1000, "timeout": 600.0, "max_preemptions": None,
    }  # fmt: skip


def test_list_json_shows_models_variants_params_properties(cli: Cli) -> None:
    proc = cli("list", "examples", "--json")
    assert proc.returncode == 0, proc.stderr
    data = _json(proc)
    assert "naive" in data["explorers"] and "dpor" in data["explorers"]
    (model,) = [m for m in data["models"] if m["name"] == LOST]
    assert [v["name"] for v in model["variants"]] == ["racy", "atomic", "locked"]
    assert model["params"] == [
        {"name": "threads", "default": 2, "min": 1, "max": 8,
         "doc": "number of incrementing threads"},
    ]  # fmt: skip
    props = {p["name"]: p["kind"] for p in model["properties"]}
    assert props["no_lost_update"] == "final"
    assert props["memory_safety"] == "builtin"
    assert model["source"].endswith("lost_update.py")


def test_list_text(cli: Cli) -> None:
    proc = cli("list", "examples")
    assert proc.returncode == 0
    assert "examples.lost_update" in proc.stdout
    assert "variants:   racy, atomic, locked" in proc.stdout
    assert "params:     threads=2 (1..8)" in proc.stdout


# ------------------------------------------------------ trace files, replay


def test_trace_out_replay_and_no_overwrite(cli: Cli, tmp_path: Path) -> None:
    trace = tmp_path / "race.json"
    proc = cli("check", LOST, "--variant", "racy", "--trace-out", str(trace), "--json")
    assert proc.returncode == 1
    assert _json(proc)["violations"][0]["trace_file"] == str(trace)
    written = trace.read_text()
    assert json.loads(written)["property"] == "no_lost_update"

    again = cli("check", LOST, "--variant", "racy", "--trace-out", str(trace))
    assert again.returncode == 2
    assert f"--trace-out {trace} exists; pass --force to overwrite it" in again.stderr
    assert trace.read_text() == written

    forced = cli("check", LOST, "--variant", "racy", "--trace-out", str(trace), "--force")
    assert forced.returncode == 1
    assert f"ctxcheck replay {trace}" in forced.stdout

    replay = cli("replay", str(trace))
    assert replay.returncode == 1, replay.stderr
    assert "no_lost_update violated again after 4 steps" in replay.stdout


def test_no_trace_written_when_the_model_holds(cli: Cli, tmp_path: Path) -> None:
    trace = tmp_path / "none.json"
    proc = cli("check", LOST, "--variant", "atomic", "--trace-out", str(trace))
    assert proc.returncode == 0
    assert not trace.exists()


def test_corrupt_trace_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "ctxcheck-trace", "version": 1, "model": ')
    proc = cli("replay", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"ctxcheck: error: trace file {bad} ")
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_inside_the_search_reports_partial_statistics(cli: Cli, tmp_path: Path) -> None:
    model = tmp_path / "ctrl_c.py"
    model.write_text(textwrap.dedent(CTRL_C_MODEL))
    proc = cli("check", str(model), "--explorer", "naive", "--json")
    assert proc.returncode == 3, proc.stderr
    data = _json(proc)
    assert data["verdict"] == "inconclusive"
    assert data["stopped"] == "interrupted"
    assert data["stats"]["executions"] == 3
    assert data["stats"]["steps"] == 9


def test_sigint_stops_a_long_search_cleanly(tmp_path: Path) -> None:
    """A real SIGINT, sent once the search is known to be running."""
    marker = tmp_path / "running"
    model = tmp_path / "long.py"
    model.write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        from ctxcheck import Cell, Model, Property, Struct, field

        class G(Struct):
            x: Cell = field(0)

        def writer(k, g):
            for _ in range(3):
                v = yield k.load(g.x)
                yield k.store(g.x, v + 1)

        def setup(m, cfg):
            g = m.new(G)
            for i in range(6):
                m.spawn(f"T{{i}}", writer, g)
            return g

        def started(m, g):
            Path({str(marker)!r}).touch()
            return None

        MODEL = Model("long", setup, properties=(Property("started", "", started, final=True),))
    """)
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctxcheck.cli", "check", str(model), "--explorer", "naive",
         "--json"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # pytest-xdist runs tests with SIGINT ignored, which a child inherits
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        for _ in range(3000):  # wait for the first finished execution
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.02)
        assert marker.exists(), "the search never started"
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    data = json.loads(out)
    assert data["stopped"] == "interrupted"
    assert data["stats"]["executions"] >= 1
    assert "Traceback" not in err


# ------------------------------------------------------------ other commands


def test_console_script_is_installed() -> None:
    import shutil

    exe = shutil.which("ctxcheck")
    assert exe is not None
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    for command in ("list", "check", "replay", "render", "prove", "bench"):
        assert command in proc.stdout


def test_no_command_is_a_usage_error(cli: Cli) -> None:
    proc = cli()
    assert proc.returncode == 2
    assert "usage: ctxcheck" in proc.stderr


def test_bench_report_measures_every_explorer_and_the_check_path() -> None:
    from ctxcheck import bench
    from ctxcheck.explorers import EXPLORERS

    tiny = bench.Settings(max_threads=3, cap=2.0, example_threads=2, wall_runs=1, min_time=0.0)
    text = bench.report(tiny, quick=True)
    assert text.startswith("# ctxcheck benchmarks")
    assert "Machine: " in text and "CPython" in text
    for name in EXPLORERS:
        assert f"| {name} | 3 |" in text
    # The family has N! traces and dpor explores one execution per trace.
    assert "- dpor explored exactly N! executions for N = 2, 3" in text
    # `ctxcheck check` imports none of the libraries it does not use.
    assert "- heavy imports on the check path: none" in text
