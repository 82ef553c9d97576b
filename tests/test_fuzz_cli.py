"""Fuzzing the command line: hostile argument vectors and mutated trace files.

hypothesis draws argument vectors for every command from pools of good and
hostile values (empty strings, names of 300 bytes, NUL bytes, escape
sequences, integers of 5,000 digits, ``nan``, directories and devices where
files belong, unknown names) and mutates a genuine trace file (any field
set to any JSON value, fields dropped, the text cut or corrupted, nested
deep). Whatever it draws, ctxcheck must answer within its contract: exit
0, 1, 2 or 3, and never a traceback (nor the "internal error" line the CLI
prints where one would have been); ``--json`` output is strict JSON (no
``NaN``), and a timeout that is not a finite, positive number is refused
(exit 2) whichever command gets it.

The commands run in this process (``ctxcheck.cli.main``) so that a few
hundred cases fit in tens of seconds; every search is bounded. The example
sequence is derandomised, so CI runs the same cases every time.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ctxcheck import cli

REPO = Path(__file__).resolve().parent.parent
LOST = "examples.lost_update"
CONTRACT = {0, 1, 2, 3}
FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def run(argv: list[str]) -> tuple[int, str, str]:
    """``ctxcheck ARGV`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status: Any = cli.main(argv)
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return status, out.getvalue(), err.getvalue()


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in --json output: not JSON")


def assert_in_contract(argv: list[str], status: int, err: str, out: str = "") -> None:
    assert status in CONTRACT, (argv, status, err)
    assert "Traceback" not in err, (argv, err)
    assert "internal error" not in err, (argv, err)
    if status == 2:
        assert err.strip(), (argv, "exit 2 without a message")
    if "--version" in argv:  # the version line, whatever follows
        return
    if "--json" in argv and status != 2 and out.strip():
        json.loads(out, parse_constant=_no_constant)  # NaN, Infinity: not JSON
    if _bad_seconds(argv):
        assert status == 2 and "--timeout" in err, (argv, status, err)


def _bad_seconds(argv: list[str]) -> bool:
    """Does the option parser get a --timeout (the last one wins) that is no number of seconds?"""
    given = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--timeout"]
    if not given or argv[0] not in ("check", "prove"):
        return False
    try:
        value = float(given[-1])
    except ValueError:
        return True
    return not math.isfinite(value) or value <= 0


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working directory with a genuine trace, a file, a directory and a model folder."""
    where = tmp_path_factory.mktemp("fuzz")
    (where / "afile").write_text("mine\n")
    (where / "adir").mkdir()
    (where / "lib").mkdir()
    (where / "lib" / "spin.py").write_text((REPO / "models" / "examples" / "lost_update.py")
                                           .read_text().replace(f'"{LOST}"', '"spin"'))  # fmt: skip
    before = Path.cwd()
    os.chdir(where)
    try:
        status, _, err = run(["check", LOST, "--variant", "racy", "--trace-out", "genuine.json"])
        assert status == 1, err
        yield where
    finally:
        os.chdir(before)


# -- argument vectors -------------------------------------------------------------
TEXT = st.sampled_from(["", " ", "\x00", "\x1b[31mred", "é", "a" * 300, "-", "--", "=", "x"])
TARGETS = st.sampled_from([
    LOST, "examples", "perf_counter.fork_inherit", "perf_counter", "nosuch", "examples..x",
    "x.py", "afile", "adir", "/dev/null", "/dev/zero", "lib/spin.py", "spin", "a" * 300,
    "a" * 300 + ".py", str(REPO / "models" / "examples" / "lost_update.py"),
]) | TEXT  # fmt: skip
NUMBERS = st.sampled_from(["0", "1", "2", "-1", "9" * 5000, "1e3", "nan", "inf", "-inf", "0x10",
                           "\u0661", "", "3.5"])  # fmt: skip
OUTPUTS = st.sampled_from(["out.json", "afile", "adir", "afile/x", "nowhere/x", "/dev/full",
                           "/dev/null", "a" * 300, "", "genuine.json", "new/../out2"])  # fmt: skip
TRACES = st.sampled_from(["genuine.json", "afile", "adir", "/dev/zero", "/dev/null", "nowhere",
                          "a" * 300, ""])  # fmt: skip
PARAMS = st.sampled_from(["threads=1", "threads=3", "threads=99", "threads=", "=1", "x",
                          "nosuch=1", "threads=1e9", "threads=" + "9" * 5000])  # fmt: skip
PATHS = st.sampled_from(["lib", "adir", "nowhere", "afile", "/dev/null", "", "a" * 300])


def _options(draw: st.DrawFn, table: dict[str, st.SearchStrategy[str] | None]) -> list[str]:
    """Some of ``table``'s options, each with a drawn value (None: a flag)."""
    chosen = draw(st.lists(st.sampled_from(sorted(table)), max_size=4))
    out: list[str] = []
    for name in chosen:
        values = table[name]
        out += [name] if values is None else [name, draw(values)]
    return out


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    """One command line, with every search bounded so that each case is quick."""
    command = draw(st.sampled_from(["list", "check", "replay", "render", "prove", "bench",
                                    "new", "junk", ""]))  # fmt: skip
    bound = ["--max-executions", "20", "--timeout", "5"]
    if command == "list":
        rest = [draw(TARGETS)] if draw(st.booleans()) else []
        rest += _options(draw, {"--json": None, "--path": PATHS, "--bogus": None})
    elif command == "check":
        target = st.sampled_from([LOST, "lib/spin.py", "spin"]) | TARGETS  # mostly runs a check
        rest = [draw(target), *_options(draw, {
            "--variant": st.sampled_from(["racy", "atomic", "nosuch", ""]) | TEXT,
            "--param": PARAMS, "--explorer": st.sampled_from(
                ["dpor", "naive", "bfs", "random", "pct", "bounded", "odpor", "nosuch"]),
            "--max-steps": NUMBERS, "--max-executions": NUMBERS, "--seed": NUMBERS,
            "--max-preemptions": NUMBERS, "--timeout": NUMBERS, "--trace-out": OUTPUTS,
            "--force": None, "--json": None, "--path": PATHS,
        })]  # fmt: skip
        rest = [rest[0], *bound, *rest[1:]]  # a drawn --timeout or --max-executions wins
    elif command == "replay":
        rest = [draw(TRACES), *_options(draw, {"--json": None, "--model": TARGETS,
                                              "--path": PATHS})]  # fmt: skip
    elif command == "render":
        fmt = st.sampled_from(["txt", "dot", "lanes", "svg", "png", "gif", ""])
        rest = [draw(TRACES), *_options(draw, {"--format": fmt, "-o": OUTPUTS, "--force": None,
                                              "--model-lines": None})]  # fmt: skip
        rest += ["--format", draw(fmt)] if draw(st.booleans()) else []
    elif command == "prove":
        targets = st.sampled_from(["perf_counter.fork_inherit", "", " ", "nosuch", "x.py",
                                   "adir", "a" * 300])  # fmt: skip
        seconds = st.sampled_from(["nan", "inf", "-inf", "1e999", "0", "-1", "", "x", "5"])
        rest = [draw(targets), "--timeout", "5",  # a drawn --timeout wins: never a long one
                *_options(draw, {"-o": OUTPUTS, "--timeout": seconds})]  # fmt: skip
    elif command == "bench":
        naive = st.sampled_from([f"{LOST}:threads=1", "nosuch", ":", f"{LOST}:threads=a",
                                 f"{LOST}:threads=99", "", f"{LOST}:x=1"])  # fmt: skip
        scale = st.sampled_from([f"{LOST}:threads=1..2", f"{LOST}:threads=2..1", "x", ":",
                                 f"{LOST}:threads=1..99", "nosuch:threads=1..2"])  # fmt: skip
        rest = ["--naive", draw(naive), *_options(draw, {
            "--scale": scale, "-o": OUTPUTS, "--models": st.sampled_from(["nosuch", ""]),
            "--scale-variant": st.sampled_from(["racy", "nosuch"]), "--cap": NUMBERS,
        }), "--naive-cap", "2", "--scale-cap", "1"]  # fmt: skip
    elif command == "new":
        rest = [draw(st.sampled_from(["spin", "class", "2x", "ok_name"]) | TEXT),
                *_options(draw, {"--dir": PATHS, "--force": None})]  # fmt: skip
    else:
        rest = draw(st.lists(TEXT, max_size=3))
    prefix = draw(st.sampled_from([[], ["--version"], ["--bogus"]]))
    return [*prefix, *([command] if command else []), *rest]


@FUZZ
@given(argv=argvs())
@example(argv=["check", LOST, "--timeout", "nan", "--json"])
@example(argv=["check", LOST, "--max-executions", "20", "--timeout", "inf", "--json"])
@example(argv=["check", LOST, "--timeout", "-inf"])
@example(argv=["check", LOST, "--timeout", "9" * 5000])
@example(argv=["prove", "perf_counter.fork_inherit", "--timeout", "nan", "-o", "out"])
def test_no_argument_vector_gets_a_traceback(place: Path, argv: list[str]) -> None:
    status, out, err = run(argv)
    assert_in_contract(argv, status, err, out)


# -- mutated trace files -----------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.sampled_from([0, -1, 1, 2**63, 10**4000, 4, 99])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "0,1,1,0", "0,1/1,1,0", "\x1b[2J", "\ud800", "x" * 10_000, "racy",
                       "examples.lost_update", "../evil.py", "/etc/passwd", "shortest"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6,
)  # fmt: skip


def _mutate(data: dict[str, Any], ops: list[tuple[str, int, Any]], rng: random.Random) -> str:
    """Apply the drawn edits to a copy of the trace data; return the file's text."""
    data = json.loads(json.dumps(data))
    for kind, where, value in ops:
        keys = sorted(data)
        if kind == "set" and keys:
            data[keys[where % len(keys)]] = value
        elif kind == "drop" and keys:
            del data[keys[where % len(keys)]]
        elif kind == "event" and isinstance(data.get("events"), list) and data["events"]:
            event = data["events"][where % len(data["events"])]
            if isinstance(event, dict) and event:
                ekeys = sorted(event)
                event[ekeys[where % len(ekeys)]] = value
    text = json.dumps(data)
    first, at = ops[0][0], ops[0][1]
    if first == "nest":  # a genuine header, then arrays nested up to 10,000 deep
        depth = 1 + at
        return text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    if first == "cut":
        return text[: at % max(len(text), 1)]
    if first == "flip" and text:
        raw = bytearray(text.encode())
        for _ in range(1 + at % 4):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return raw.decode("latin-1")
    return text


EDITS = st.lists(
    st.tuples(st.sampled_from(["set", "drop", "event", "nest", "cut", "flip"]),
              st.integers(0, 10_000), JSON_VALUES),
    min_size=1, max_size=4,
)  # fmt: skip


@FUZZ
@given(ops=EDITS, how=st.sampled_from([["replay"], ["replay", "--json"],
                                       ["render", "--format", "txt"],
                                       ["render", "--format", "lanes"],
                                       ["render", "--format", "dot"]]))  # fmt: skip
def test_no_mutated_trace_file_gets_a_traceback(
    place: Path, ops: list[tuple[str, int, Any]], how: list[str]
) -> None:
    genuine = json.loads((place / "genuine.json").read_text())
    path = place / "mutated.json"
    path.write_text(_mutate(genuine, ops, random.Random(len(ops))), encoding="latin-1")
    argv = [how[0], str(path), *how[1:]]
    status, out, err = run(argv)
    assert_in_contract(argv, status, err, out)
    assert "\x1b" not in out and "\x1b" not in err
