"""A trace file is data: replaying or rendering one never runs code it names.

Reviewers pass trace files around by mail. The rule (``ctxcheck.tracefile``):
the ``model`` field of a trace is only ever looked up as a *name* among the
models already on the model path; a model file runs only when the user
names it on the command line (``ctxcheck replay T --model FILE``), and its
SHA-256 is then compared with the one the trace recorded.

Each hostile trace below is a real trace of the lost update with its
``model`` field pointed at a Python file that would leave a marker file
behind if it were executed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LOST_UPDATE = REPO / "models" / "examples" / "lost_update.py"

EVIL = """\
import pathlib
pathlib.Path({marker!r}).write_text("executed")
from models.examples.lost_update import MODEL  # noqa: E402,F401
"""


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine trace of the lost update, recorded by name."""
    path = tmp_path_factory.mktemp("genuine") / "lost.json"
    run = _cli("check", "examples.lost_update", "--variant", "racy", "--trace-out", str(path))
    assert run.returncode == 1, run.stderr
    return path


def _hostile(trace: Path, folder: Path, model: str, digest: str = "") -> Path:
    data = json.loads(trace.read_text())
    data["model"] = model
    data["model_sha256"] = digest
    out = folder / "hostile.json"
    out.write_text(json.dumps(data))
    return out


@pytest.mark.parametrize("how", ["absolute", "relative", "dotdot"])
def test_a_trace_never_runs_the_file_it_names(trace: Path, tmp_path: Path, how: str) -> None:
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.py"
    evil.write_text(EVIL.format(marker=str(marker)))
    work = tmp_path / "work"
    work.mkdir()
    named = {
        "absolute": str(evil),
        "relative": "evil.py",
        "dotdot": "../evil.py",
    }[how]
    cwd = tmp_path if how == "relative" else work
    hostile = _hostile(trace, tmp_path, named)
    for command in (["replay", str(hostile)], ["replay", str(hostile), "--json"]):
        run = _cli(*command, cwd=cwd)
        assert run.returncode == 2, run.stdout + run.stderr
        assert not marker.exists(), "the trace's model file was executed"
        assert "Traceback" not in run.stderr
        assert "never loads code by itself" in run.stderr
        assert "--model" in run.stderr
    for fmt in ("txt", "dot", "lanes"):
        run = _cli("render", str(hostile), "--format", fmt, cwd=cwd)
        assert run.returncode == 0, run.stderr
        assert not marker.exists(), f"render --format {fmt} executed the model file"


@pytest.mark.parametrize(
    "name",
    ["__import__('os').system('true')", "examples..lost_update", "examples.lost_update;x", ""],
)
def test_a_model_field_that_is_no_name_is_refused(trace: Path, tmp_path: Path, name: str) -> None:
    hostile = _hostile(trace, tmp_path, name)
    run = _cli("replay", str(hostile))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert str(hostile) in run.stderr


def test_an_unknown_model_name_is_refused(trace: Path, tmp_path: Path) -> None:
    hostile = _hostile(trace, tmp_path, "examples.nosuch")
    run = _cli("replay", str(hostile))
    assert run.returncode == 2
    assert "unknown model 'examples.nosuch'" in run.stderr


def test_a_named_file_replays_and_its_digest_is_checked(trace: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mymodel.py"
    shutil.copy(LOST_UPDATE, mine)
    recorded = tmp_path / "mine.json"
    run = _cli("check", str(mine), "--variant", "racy", "--trace-out", str(recorded))
    assert run.returncode == 1, run.stderr
    # the reproduce line says how to replay it: with the file named
    assert "--model" in run.stdout and str(mine) in run.stdout
    refused = _cli("replay", str(recorded))
    assert refused.returncode == 2 and "--model" in refused.stderr
    ok = _cli("replay", str(recorded), "--model", str(mine))
    assert ok.returncode == 1, ok.stderr
    assert "violated again" in ok.stdout
    assert "changed since" not in ok.stderr and "no SHA-256" not in ok.stderr
    # the same trace with its digest emptied: the replay says it cannot confirm the file
    blank = _hostile(recorded, tmp_path, str(mine))
    run = _cli("replay", str(blank), "--model", str(mine))
    assert run.returncode == 1
    assert "records no SHA-256 of its model" in run.stderr
    # another file under --model: the digest differs, and the replay says so
    other = tmp_path / "other.py"
    other.write_text(mine.read_text() + "\n# edited\n")
    run = _cli("replay", str(recorded), "--model", str(other))
    assert run.returncode == 1
    assert "changed since the trace was recorded" in run.stderr
