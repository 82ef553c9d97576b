"""Steps cite the line of the code a model follows (``Model.cite``).

A model of real code says which line of that code each step is, at the
variant's revision; traces name that line beside the function, keep the
model's own ``file:line`` in the JSON, and give it back on request
(``render --format txt --model-lines``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from ctxcheck import tracefile

REPO = Path(__file__).resolve().parent.parent
LOST_UPDATE = REPO / "models" / "examples" / "lost_update.py"

#: the lost update, citing a made-up C file: line 40 + the model's line, per variant
CITING = """
from ctxcheck.model import Citation
import dataclasses


def cite(variant, file, line, function):
    if function != "inc_racy":
        return None
    base = 4000 if variant == "racy" else 5000
    return Citation("lib/counter.c", base + line, "abc123", f"https://example.org/abc123#L{line}")


MODEL = dataclasses.replace(MODEL, cite=cite)
"""


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _model_line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_trace_cites_the_followed_line(tmp_path: Path) -> None:
    model = tmp_path / "citing.py"
    model.write_text(LOST_UPDATE.read_text() + CITING)
    load_line = _model_line(model.read_text(), "value = yield k.load(data.counter)")
    out = tmp_path / "t.json"
    run = _cli("check", str(model), "--variant", "racy", "--trace-out", str(out))
    assert run.returncode == 1, run.stderr
    # the check's own text trace names the cited line and its file at the revision
    assert f"inc_racy:{4000 + load_line}" in run.stdout
    assert "lines: lib/counter.c at abc123" in run.stdout
    data = json.loads(out.read_text())
    jsonschema.validate(data, tracefile.schema())
    first = data["events"][0]
    assert first["line"] == load_line and first["file"].endswith("citing.py")
    assert first["cite"] == {
        "path": "lib/counter.c",
        "line": 4000 + load_line,
        "revision": "abc123",
        "url": f"https://example.org/abc123#L{load_line}",
    }
    text = _cli("render", str(out), "--format", "txt")
    assert text.returncode == 0 and f"inc_racy:{4000 + load_line}" in text.stdout
    own = _cli("render", str(out), "--format", "txt", "--model-lines")
    assert own.returncode == 0
    assert f"inc_racy:{load_line} " in own.stdout and "lines:" not in own.stdout
    lanes = _cli("render", str(out), "--format", "lanes")
    assert f"lib/counter.c:{4000 + load_line}" in lanes.stdout
    # a reloaded trace keeps the citation
    (event, *_) = tracefile.load(out).events
    assert event.cite is not None and event.cite.url == f"https://example.org/abc123#L{load_line}"


def test_a_model_without_citations_keeps_its_own_lines(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    run = _cli("check", "examples.lost_update", "--variant", "racy", "--trace-out", str(out))
    assert run.returncode == 1
    assert "lines:" not in run.stdout and "source: models/examples/lost_update.py" in run.stdout
    assert all(e["cite"] is None for e in json.loads(out.read_text())["events"])
