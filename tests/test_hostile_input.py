"""Every class of hostile input of issue 17, through the command line: a message, exit 2.

One test per class: output paths that cannot be written, names longer than
a file system takes, JSON nested past Python's recursion limit, integers of
more than 4,300 digits, Graphviz failing or killed, closed pipes, an empty
``prove`` target, overwriting a derived trace file or a render output,
megabyte messages, directories and devices where a file belongs,
``--version``, ``list`` of a prefix that names nothing, and escape sequences
in a trace. (The security class, a trace naming code, is
tests/test_trace_security.py.) Each case also asserts that no traceback
reached the user and that nothing was written where it should not be.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., "subprocess.CompletedProcess[str]"]
LOST = "examples.lost_update"
LONG = "a" * 300


def _error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2, one message naming each of ``words``, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for word in words:
        assert word in proc.stderr, (word, proc.stderr)
    return proc.stderr


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine trace of the lost update."""
    path = tmp_path_factory.mktemp("trace") / "lost.json"
    proc = subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", "check", LOST, "--variant", "racy",
         "--trace-out", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    return path


def _edited(trace: Path, folder: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(trace.read_text())
    edit(data)
    out = folder / name
    out.write_text(json.dumps(data))
    return out


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    """Output paths that cannot be written, each of its own kind."""
    (tmp_path / "afile").write_text("mine\n")
    (tmp_path / "adir").mkdir()
    return {
        "missing directory": str(tmp_path / "nowhere" / "out.x"),
        "file as a directory": str(tmp_path / "afile" / "out.x"),
        "a directory": str(tmp_path / "adir"),
        "a full device": "/dev/full",
    }


# -- output paths ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["missing directory", "file as a directory", "a directory",
                                  "a full device"])  # fmt: skip
def test_render_output_that_cannot_be_written(
    cli: Cli, trace: Path, places: dict[str, str], kind: str
) -> None:
    out = places[kind]
    want = {
        "missing directory": "does not exist",
        "file as a directory": "is a file",
        "a directory": "is a directory",
        "a full device": "No space left on device",
    }
    _error(cli("render", str(trace), "--format", "lanes", "-o", out), out, want[kind])
    assert (Path(places["file as a directory"]).parent).read_text() == "mine\n"


@pytest.mark.parametrize("kind", ["missing directory", "file as a directory", "a directory",
                                  "a full device"])  # fmt: skip
def test_trace_out_that_cannot_be_written_stops_before_the_search(
    cli: Cli, places: dict[str, str], kind: str
) -> None:
    out = places[kind]
    proc = cli("check", LOST, "--variant", "racy", "--trace-out", out)
    _error(proc, "--trace-out", out)
    assert proc.stdout == ""  # no search ran, so no result was printed and lost


@pytest.mark.parametrize("kind", ["missing directory", "file as a directory", "a full device",
                                  "a file", "somebody's directory"])  # fmt: skip
def test_prove_output_that_cannot_be_written(
    cli: Cli, places: dict[str, str], tmp_path: Path, kind: str
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me\n")
    out = {**places, "a file": str(tmp_path / "afile"), "somebody's directory": str(theirs)}[kind]
    _error(cli("prove", LOST, "-o", out), out)
    assert (theirs / "notes.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in theirs.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("kind", ["missing directory", "file as a directory", "a directory",
                                  "a full device"])  # fmt: skip
def test_bench_output_is_refused_before_anything_is_measured(
    cli: Cli, places: dict[str, str], kind: str
) -> None:
    out = places[kind]
    err = _error(cli("bench", "--naive", f"{LOST}:threads=1", "-o", out), out)
    assert "ctxcheck bench:" not in err  # no measurement ran


def test_bench_keeps_a_copy_when_the_output_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctxcheck.bench import run
    from ctxcheck.errors import OutputError

    target = tmp_path / "BENCHMARKS.md"
    sink = run.Sink(str(target))

    def full_disk(output: str, text: str) -> None:
        raise OutputError(f"cannot write the benchmark tables {output}: No space left on device")

    monkeypatch.setattr(run, "write_sections", full_disk)
    with pytest.raises(OutputError, match="the measured tables are in ") as caught:
        sink.emit("## A table\n\n| x |\n")
    assert sink.safe is not None and str(sink.safe) in str(caught.value)
    assert "## A table" in sink.safe.read_text()
    sink.safe.unlink()


def test_bench_merges_into_the_file_and_removes_its_copy(tmp_path: Path) -> None:
    from ctxcheck.bench import run

    target = tmp_path / "BENCHMARKS.md"
    target.write_text("# ctxcheck benchmarks\n\n## Theirs\n\nkept\n")
    sink = run.Sink(str(target))
    sink.emit("## Mine\n\nnew\n")
    assert sink.safe is not None and sink.safe.is_file()
    sink.close()
    assert not sink.safe.exists()
    assert "## Theirs\n\nkept" in target.read_text() and "## Mine" in target.read_text()


# -- names longer than a file system takes -------------------------------------------
def test_names_over_255_bytes(cli: Cli, trace: Path, tmp_path: Path) -> None:
    _error(cli("check", f"{LONG}.py"), "longer than", "255")
    _error(cli("check", LOST, "--variant", "racy", "--trace-out", str(tmp_path / f"{LONG}.json")),
           "--trace-out", "255")  # fmt: skip
    _error(cli("render", str(trace), "--format", "txt", "-o", str(tmp_path / LONG)), "255")
    _error(cli("replay", str(tmp_path / f"{LONG}.json")), "trace file", "255")
    named = _edited(trace, tmp_path, "named.json", lambda d: d.update(model=LONG))
    _error(cli("replay", str(named)), "unknown model", "characters")
    filed = _edited(trace, tmp_path, "filed.json", lambda d: d.update(model=f"{LONG}.py"))
    _error(cli("replay", str(filed)), "never loads code by itself")
    assert list(tmp_path.glob("a*")) == []


# -- JSON no trace file ever holds ------------------------------------------------------
@pytest.mark.parametrize("depth", [1_200, 200_000])
def test_json_nested_deeper_than_python_reads(cli: Cli, tmp_path: Path, depth: int) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"format": "ctxcheck-trace", "version": 1, "x": ' + "[" * depth
                    + "]" * depth + "}")  # fmt: skip
    _error(cli("replay", str(deep)), str(deep), "nests")
    _error(cli("render", str(deep), "--format", "txt"), str(deep), "nests")


def test_integers_of_more_than_4300_digits(cli: Cli, trace: Path, tmp_path: Path) -> None:
    steps = tmp_path / "steps.json"
    steps.write_text(trace.read_text().replace('"max_steps": 500', '"max_steps": ' + "9" * 5000))
    _error(cli("replay", str(steps)), str(steps), "4,300")
    _error(cli("render", str(steps), "--format", "lanes"), str(steps), "4,300")
    sched = _edited(trace, tmp_path, "sched.json",
                    lambda d: d.update(schedule="0,1,1," + "1" * 5000))  # fmt: skip
    _error(cli("replay", str(sched)), str(sched), "schedule")
    _error(cli("render", str(sched), "--format", "txt"), str(sched), "schedule")


# -- Graphviz failing ---------------------------------------------------------------
FAKE_DOTS = {
    "fails": 'echo "Error: syntax error in line 1" >&2\nexit 1\n',
    "is killed": "kill -9 $$\n",
    "draws nothing": "cat > /dev/null\nexit 0\n",
}


@pytest.mark.parametrize("how", list(FAKE_DOTS))
def test_dot_failing_or_out_of_memory(trace: Path, tmp_path: Path, how: str) -> None:
    """A ``dot`` that fails, is killed (the OOM killer) or prints nothing: exit 2 for
    render, a note for prove (whose other files are written all the same)."""
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\n" + FAKE_DOTS[how])
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ctxcheck.cli", *args], cwd=tmp_path,
                              env=env, capture_output=True, text=True, check=False)  # fmt: skip

    for fmt in ("png", "svg"):
        err = _error(run("render", str(trace), "--format", fmt, "-o", f"g.{fmt}"), "dot")
        assert "syntax error in line 1" not in err.split("ctxcheck: error:")[0]
    assert not list(tmp_path.glob("g.*"))
    proof = run("prove", LOST, "-o", "proof")
    assert proof.returncode == 0, proof.stderr
    assert "no graph (Graphviz `dot`" in proof.stderr and "Traceback" not in proof.stderr
    traces = tmp_path / "proof" / "traces" / LOST.rsplit(".", 1)[-1]  # short folders
    assert sorted(p.name for p in traces.iterdir()) == [
        "racy.no_lost_update.json", "racy.no_lost_update.lanes.svg"]  # fmt: skip


# -- closed pipes -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "status"),
    [(["list"], 0), (["list", "--json"], 0), (["--help"], 0),
     (["check", LOST, "--variant", "racy"], 1), (["check", LOST, "--variant", "atomic"], 0)],
)  # fmt: skip
def test_a_closed_pipe_ends_the_output_quietly(argv: list[str], status: int) -> None:
    """``ctxcheck list | head -c 20``: the reader is gone before the first write."""
    proc = subprocess.Popen([sys.executable, "-m", "ctxcheck.cli", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == status
    assert err == ""


# -- prove '' ----------------------------------------------------------------------
def test_prove_of_an_empty_target_proves_nothing(cli: Cli, tmp_path: Path) -> None:
    _error(cli("prove", "", cwd=tmp_path), "empty target")
    _error(cli("prove", LOST, " ", cwd=tmp_path), "empty target")
    assert list(tmp_path.iterdir()) == []


# -- overwriting ------------------------------------------------------------------------
TWO_WAYS = """
from ctxcheck import Cell, Model, Property, Struct, field

class G(Struct):
    x: Cell = field(0)

def writer(k, g, v):
    yield k.store(g.x, v)

def setup(m, cfg):
    g = m.new(G)
    m.spawn("one", writer, g, 1)
    m.spawn("two", writer, g, 2)
    return g

def not_one(m, g):
    return "x is 1" if g.x.value == 1 else None

def not_two(m, g):
    return "x is 2" if g.x.value == 2 else None

MODEL = Model("two_ways", setup, properties=(
    Property("not_one", "", not_one, final=True), Property("not_two", "", not_two, final=True)))
"""


def test_trace_out_never_overwrites_a_derived_file(cli: Cli, tmp_path: Path) -> None:
    model = tmp_path / "two_ways.py"
    model.write_text(textwrap.dedent(TWO_WAYS))
    base, derived = tmp_path / "t.json", tmp_path / "t.not_two.json"
    derived.write_text("mine\n")
    _error(cli("check", str(model), "--trace-out", str(base)), f"{derived} exists", "--force")
    assert derived.read_text() == "mine\n" and not base.exists()
    forced = cli("check", str(model), "--trace-out", str(base), "--force", "--json")
    assert forced.returncode == 1, forced.stderr
    files = {v["property"]: v["trace_file"] for v in json.loads(forced.stdout)["violations"]}
    assert files == {"not_one": str(base), "not_two": str(derived)}
    assert json.loads(derived.read_text())["property"] == "not_two"


def test_render_output_is_never_overwritten_without_force(
    cli: Cli, trace: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine.txt"
    out.write_text("mine\n")
    _error(cli("render", str(trace), "--format", "txt", "-o", str(out)), f"-o {out} exists",
           "--force")  # fmt: skip
    assert out.read_text() == "mine\n"
    forced = cli("render", str(trace), "--format", "txt", "-o", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "violates no_lost_update" in out.read_text()


# -- megabytes of message ----------------------------------------------------------------
def test_a_message_of_megabytes_is_clipped_before_layout(
    cli: Cli, trace: Path, tmp_path: Path
) -> None:
    """Tabs make textwrap quadratic; the drawings lay out a bounded text whatever the file."""
    huge = "\t".join(["word"] * 400_000)  # 2 MB
    big = _edited(trace, tmp_path, "big.json", lambda d: d.update(message=huge))
    text = cli("render", str(big), "--format", "txt")
    assert text.returncode == 0, text.stderr
    assert len(text.stdout) < 10_000 and "characters in all" in text.stdout
    lanes = cli("render", str(big), "--format", "lanes")
    assert lanes.returncode == 0 and len(lanes.stdout) < 100_000
    ET.fromstring(lanes.stdout)


# -- directories and devices where a file belongs ---------------------------------------
@pytest.mark.parametrize(
    ("path", "what"),
    [("/tmp", "is a directory"), ("/dev/null", "not a regular file"),
     ("/dev/zero", "not a regular file")],
)  # fmt: skip
def test_directories_and_devices_as_target_or_trace(cli: Cli, path: str, what: str) -> None:
    _error(cli("check", path), f"model file {path}", what)
    _error(cli("replay", path), f"trace file {path}", what)
    _error(cli("render", path, "--format", "txt"), f"trace file {path}", what)


# -- --version, list nosuch ----------------------------------------------------------
def test_version(cli: Cli) -> None:
    import ctxcheck

    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"ctxcheck {ctxcheck.__version__}"


def test_list_of_a_prefix_that_names_nothing(cli: Cli) -> None:
    err = _error(cli("list", "nosuch"), "no model is named 'nosuch'", "known models: ")
    assert LOST in err
    assert cli("list", "examples").returncode == 0


# -- escape sequences ---------------------------------------------------------------------
def test_escape_sequences_in_a_trace_never_reach_the_terminal(
    cli: Cli, trace: Path, tmp_path: Path
) -> None:
    def poison(data: dict[str, Any]) -> None:
        data["events"][0]["thread"] = "\x1b[31mT0\x1b]0;owned\x07"
        data["events"][1]["text"] = "load(\x1b[2Jdata.counter)\x00\x0c"
        data["message"] = "\x1b[1A\u202egnirts\ud800 \x9b31m"

    bad = _edited(trace, tmp_path, "esc.json", poison)
    for fmt in ("txt", "dot", "lanes"):
        proc = cli("render", str(bad), "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        for raw in ("\x1b", "\x07", "\x00", "\x0c", "\u202e", "\x9b"):
            assert raw not in proc.stdout, (fmt, raw)
        assert "\\x1b" in proc.stdout
    svg = cli("render", str(bad), "--format", "lanes")
    ET.fromstring(svg.stdout)  # well-formed XML
    named = _edited(trace, tmp_path, "named.json", lambda d: d.update(model="x\x1b[2Jy"))
    err = _error(cli("replay", str(named)))
    assert "\x1b" not in err
