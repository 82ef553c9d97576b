"""``ctxcheck litmus``: the JSON contract, and bad files get exit 2 naming the line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
LITMUS = REPO / "tests" / "lkmm" / "litmus"


def _ctxcheck(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", "litmus", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_json_has_the_contract_keys() -> None:
    done = _ctxcheck(str(LITMUS / "SB+poonceonces.litmus"), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["test"] == "SB+poonceonces"
    assert out["model"] == "lkmm"
    assert out["result"] == "Sometimes"
    assert out["states"] == 4
    assert out["data_race"] is False
    assert out["witness"]["rf"]
    assert {"0:seen": 0, "1:seen": 0} in out["final_states"]


def test_json_reports_a_data_race() -> None:
    done = _ctxcheck(str(REPO / "tests" / "lkmm" / "extra" / "plain-race.litmus"), "--json")
    assert done.returncode == 0
    out = json.loads(done.stdout)
    assert out["data_race"] is True
    assert out["witness"]["races"]


def test_text_shows_the_verdict_and_a_witness() -> None:
    done = _ctxcheck(str(LITMUS / "MP+poonceonces.litmus"))
    assert done.returncode == 0
    assert "Observation MP+poonceonces Sometimes 1 3" in done.stdout
    assert "States 4" in done.stdout
    assert "was not yet visible to P1" in done.stdout


def test_never_has_no_witness() -> None:
    done = _ctxcheck(str(LITMUS / "MP+polocks.litmus"))
    assert done.returncode == 0
    assert "Observation MP+polocks Never 0 3" in done.stdout
    assert "Witness" not in done.stdout


BAD = [
    ("", 1, "empty"),
    ("P0(int *x) { }\nexists (x=0)\n", 1, "starts with 'C <name>'"),
    ("C t\n{}\nP0(int *x)\n{\n\tWRITE_ONCE(*x 1);\n}\nexists (x=1)\n", 5, "expected ','"),
    ("C t\n{}\nP0(int *x)\n{\n\tfoo(x);\n}\nexists (x=1)\n", 5, "unknown primitive foo()"),
    ("C t\n{}\nP0(int *x)\n{\n\tREAD_ONCE(*x, 2);\n}\nexists (x=1)\n", 5, "takes 1 argument"),
    ("C t\n(* never closed\n{}\n", 2, "never closed"),
    ("C t\n{}\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1);\n}\n", 7, "exists, ~exists or forall"),
    ("C t\n{}\nP0(int *x)\n{\n\twhile (1) { }\n}\nexists (x=1)\n", 5, "no loops"),
    ("C t\n{}\nP1(int *x)\n{\n}\nexists (x=1)\n", 3, "P0, P1, ... in order"),
    ("C t\n{}\nP0(int *x)\n{\n\tint r;\n\tr = READ_ONCE(*q);\n}\nexists (x=1)\n", 6, "neither"),
    ("C t\n{\n\tint x = ;\n}\nP0(int *x)\n{\n}\nexists (x=1)\n", 3, "expected a value"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD, ids=[b[2] for b in BAD])
def test_bad_file_exits_2_naming_the_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "bad.litmus"
    path.write_text(text)
    done = _ctxcheck(str(path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{path}:{line}:" in done.stderr
    assert words in done.stderr


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    done = _ctxcheck(str(tmp_path / "missing.litmus"))
    assert done.returncode == 2
    assert "missing.litmus" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_chapter_shows_what_the_command_prints() -> None:
    import re

    doc = (REPO / "docs" / "reviewing-barriers.md").read_text()
    block = re.search(r"prints \(abridged\):\n\n```\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    done = _ctxcheck(str(REPO / "docs" / "litmus" / "ctx-publish+wmb+plainreader.litmus"))
    printed = done.stdout.splitlines()
    for line in block.group(1).splitlines():
        if line.strip():
            assert line.rstrip() in (p.rstrip() for p in printed), line


def test_leading_zero_and_deep_nesting_are_not_tracebacks(tmp_path: Path) -> None:
    path = tmp_path / "odd.litmus"
    path.write_text("C t\n{}\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 010);\n}\nexists (x=10)\n")
    done = _ctxcheck(str(path), "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["result"] == "Always"
    deep = "(" * 3000 + "1" + ")" * 3000
    path.write_text(f"C t\n{{}}\nP0(int *x)\n{{\n\tWRITE_ONCE(*x, {deep});\n}}\nexists (x=1)\n")
    done = _ctxcheck(str(path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "nested too deeply" in done.stderr
