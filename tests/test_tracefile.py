"""Trace files through the CLI: write, replay, and every way a file can go wrong.

Each corruption must make ``ctxcheck replay`` exit 2 with a message naming
the problem; a good file must replay to the same violation and exit 1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ctxcheck import tracefile
from ctxcheck.errors import TraceFileError

REPO = Path(__file__).resolve().parent.parent
LOST_UPDATE = REPO / "models" / "examples" / "lost_update.py"


def ctxcheck_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ctxcheck.cli`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trace of the lost update, written by ``check --trace-out``."""
    path = tmp_path_factory.mktemp("trace") / "lost.json"
    run = ctxcheck_cli(
        "check", "examples.lost_update", "--variant", "racy", "--trace-out", str(path)
    )
    assert run.returncode == 1, run.stderr
    assert f"ctxcheck replay {path}" in run.stdout
    return path


def _edited(src: Path, dst: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(src.read_text())
    edit(data)
    dst.write_text(json.dumps(data))
    return dst


def test_replay_reproduces_the_violation(recorded: Path) -> None:
    run = ctxcheck_cli("replay", str(recorded))
    assert run.returncode == 1, run.stderr
    assert "no_lost_update violated again after 4 steps" in run.stdout
    run = ctxcheck_cli("replay", str(recorded), "--json")
    data = json.loads(run.stdout)
    (v,) = data["violations"]
    assert (v["property"], v["steps"], v["preemptions"]) == ("no_lost_update", 4, 1)
    assert v["minimal"] == "shortest"


def test_file_contents_follow_the_schema(recorded: Path) -> None:
    data = json.loads(recorded.read_text())
    jsonschema.validate(data, tracefile.schema())
    assert data["version"] == tracefile.VERSION and data["format"] == tracefile.FORMAT
    assert data["model"] == "examples.lost_update"
    assert data["model_source"].endswith("lost_update.py")
    assert len(data["model_sha256"]) == 64
    assert (data["variant"], data["params"]) == ("racy", {"threads": 2})
    assert data["schedule"] == "0,1,1,0" and data["choices"] == []
    assert [e["thread"] for e in data["events"]] == ["T0", "T1", "T1", "T0"]
    trace = tracefile.load(recorded)
    assert trace.schedule == [(0, 0), (1, 0), (1, 0), (0, 0)]
    assert trace.violation().to_json()["schedule"] == "0,1,1,0"


def test_round_trip_through_load_and_save(recorded: Path, tmp_path: Path) -> None:
    trace = tracefile.load(recorded)
    again = tmp_path / "again.json"
    tracefile.save(again, trace.result(), trace.violation(), trace.data["model_sha256"])
    assert json.loads(again.read_text()) == trace.data


CORRUPTIONS: dict[str, tuple[Callable[[str], str], tuple[str, ...]]] = {
    "truncated": (lambda t: t[: len(t) // 2], ("is truncated",)),
    "not-json": (lambda t: "this is not JSON at all\n", ("is not valid JSON", "line 1")),
    "empty": (lambda t: "", ("is empty",)),
    "not-a-trace": (lambda t: '{"hello": 1}', ("is not a ctxcheck trace file",)),
    "a-list": (lambda t: "[1, 2]", ("is not a ctxcheck trace file",)),
}


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data[key] = value

    return edit


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        del data[key]

    return edit


def _event(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["events"][index][key] = value

    return edit


EDITS: dict[str, tuple[Callable[[dict[str, Any]], None], tuple[str, ...]]] = {
    "other-version": (_set("version", 99), ("format version 99", "reads version 1")),
    "missing-field": (_drop("schedule"), ("malformed", "'schedule' is a required property")),
    "wrong-type": (_event(2, "line", "x"), ("malformed", "events[2].line", "'x'")),
    "bad-schedule": (_set("schedule", "0,one"), ("malformed", "schedule")),
    "edited-step": (
        _set("schedule", "0,0,1,1"),
        ("step 2 of the schedule moves thread 0", "recorded event 2 is by thread 1", "edited"),
    ),
    "step-count": (_set("steps", 5), ("says 5 steps", "schedule has 4")),
    "preemptions": (_set("preemptions", 3), ("says 3 preemptions",)),
    "unknown-model": (
        _set("model", "examples.no_such_model"),
        ("examples.no_such_model", "cannot be loaded", "unknown model"),
    ),
    "bad-variant": (_set("variant", "nope"), ("does not fit the model", "no variant 'nope'")),
    "bad-param": (_set("params", {"threads": 99}), ("does not fit the model", "out of range")),
    "edited-event": (
        _event(1, "op", "store"),
        ("diverges from the model at step 2", "now its next step is load(data.counter)"),
    ),
    "edited-property": (
        _set("property", "other"),
        ("no longer reproduces", "violation of other", "now gives a violation of no_lost_update"),
    ),
}


@pytest.fixture(scope="module")
def replays(recorded: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Replay]:
    """Every damaged file, replayed by the CLI; the processes run side by side."""
    folder = tmp_path_factory.mktemp("damaged")
    paths: dict[str, Path] = {}
    for name, (corrupt, _) in CORRUPTIONS.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(corrupt(recorded.read_text()))
    for name, (edit, _) in EDITS.items():
        paths[name] = _edited(recorded, folder / f"{name}.json", edit)
    paths["missing"] = folder / "nowhere.json"
    procs = {name: _start("replay", str(path)) for name, path in paths.items()}
    return {name: _finish(proc, paths[name]) for name, proc in procs.items()}


@dataclass
class Replay:
    """A finished ``ctxcheck replay`` of one file."""

    path: Path
    returncode: int
    stderr: str


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ctxcheck.cli", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], path: Path) -> Replay:
    _, err = proc.communicate(timeout=300)
    return Replay(path, proc.returncode, err)


def _check_error(run: Replay, *needles: str) -> None:
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert str(run.path) in run.stderr
    for needle in needles:
        assert needle in run.stderr, run.stderr


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_damaged_text(replays: dict[str, Replay], name: str) -> None:
    _check_error(replays[name], *CORRUPTIONS[name][1])


@pytest.mark.parametrize("name", list(EDITS))
def test_edited_fields(replays: dict[str, Replay], name: str) -> None:
    _check_error(replays[name], *EDITS[name][1])


def test_missing_file(replays: dict[str, Replay]) -> None:
    _check_error(replays["missing"], "does not exist")


# -- the model changed under the trace ----------------------------------------------
def _swap(old: str, new: str) -> Callable[[Path], None]:
    def edit(model: Path) -> None:
        text = model.read_text()
        assert old in text
        model.write_text(text.replace(old, new))

    return edit


MODEL_CHANGES: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "diverges": (
        _swap('"racy": inc_racy', '"racy": inc_atomic'),
        (
            "diverges from the model at step 1",
            "recorded T0 load",
            "now its next step is atomic_inc",
            "mymodel.py changed since the trace",
        ),
    ),
    "fixed": (
        _swap("if s.data.counter.value != s.threads:", "if False:"),
        ("no longer reproduces", "now gives no violation", "changed since"),
    ),
    "renamed": (
        _swap('name="examples.lost_update"', 'name="examples.other"'),
        ("was recorded on model 'examples.lost_update'", "now loads model 'examples.other'"),
    ),
    "gone": (lambda model: model.unlink(), ("cannot be loaded", "does not exist")),
}


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Replay]:
    """Copies of the lost-update model checked by file path, then changed, then replayed."""
    folders = {name: tmp_path_factory.mktemp(name) for name in MODEL_CHANGES}
    checks = {}
    for name, folder in folders.items():
        shutil.copy(LOST_UPDATE, folder / "mymodel.py")
        checks[name] = _start(
            "check",
            str(folder / "mymodel.py"),
            "--variant",
            "racy",
            "--trace-out",
            str(folder / "mine.json"),
        )
    for name, proc in checks.items():
        assert _finish(proc, folders[name]).returncode == 1
        trace = json.loads((folders[name] / "mine.json").read_text())
        assert trace["model"] == str(folders[name] / "mymodel.py")
        MODEL_CHANGES[name][0](folders[name] / "mymodel.py")
    procs = {
        name: _start("replay", str(f / "mine.json"), "--model", str(f / "mymodel.py"))
        for name, f in folders.items()
    }
    return {name: _finish(proc, folders[name] / "mine.json") for name, proc in procs.items()}


@pytest.mark.parametrize("name", list(MODEL_CHANGES))
def test_a_changed_model_is_named(changed: dict[str, Replay], name: str) -> None:
    _check_error(changed[name], *MODEL_CHANGES[name][1])


def test_load_errors_are_trace_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"format": "ctxcheck-trace", "version": 1}')
    with pytest.raises(TraceFileError, match="malformed"):
        tracefile.load(path)


def test_check_refuses_to_overwrite_a_trace(recorded: Path) -> None:
    run = ctxcheck_cli(
        "check", "examples.lost_update", "--variant", "racy", "--trace-out", str(recorded)
    )
    assert run.returncode == 2 and "exists" in run.stderr
