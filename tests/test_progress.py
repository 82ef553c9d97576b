"""Progress on stderr when it is not a terminal: plain lines every few seconds; --quiet."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from ctxcheck.progress import PlainProgress, progress_text

REPO = Path(__file__).resolve().parent.parent
LINE = re.compile(
    r"^ctxcheck: examples\.seqcount: [\d,]+ executions \([\d,]+/s\), [\d,]+ blocked, "
    r"[\d,]+ steps, [\d.]+s(, ~[\d,]+ to go)?$",
    re.M,
)


def _check(tmp_path: Path, *extra: str) -> str:
    log = tmp_path / "log"
    env = {**os.environ, "CTXCHECK_PROGRESS_INTERVAL": "0.2", "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "ctxcheck", "check", "examples.seqcount", "--variant",
            "correct", "--timeout", "2", *extra]  # fmt: skip
    with log.open("w") as err:
        proc = subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err,
                              text=True, check=False)  # fmt: skip
    assert proc.returncode == 3, proc.stdout  # the timeout cut it: inconclusive
    return log.read_text()


def test_a_run_with_stderr_to_a_file_leaves_progress_lines(tmp_path: Path) -> None:
    text = _check(tmp_path)
    lines = LINE.findall(text)
    assert len(lines) >= 2, text  # one every 0.2 s of a 2 s run
    assert "to go" in text  # dpor estimates what remains


def test_quiet_silences_progress(tmp_path: Path) -> None:
    assert _check(tmp_path, "--quiet") == ""


def test_plain_progress_waits_for_its_interval() -> None:
    out = io.StringIO()
    hook = PlainProgress("m", out, every=3600.0)
    stats = SimpleNamespace(
        executions=10, blocked=0, steps=99, seconds=2.0, estimate_remaining=None
    )
    hook(stats)
    assert out.getvalue() == ""
    hook._next = 0.0
    hook(stats)
    assert out.getvalue() == "ctxcheck: m: 10 executions (5/s), 0 blocked, 99 steps, 2.0s\n"
    assert progress_text(
        "m", SimpleNamespace(**{**vars(stats), "estimate_remaining": 1234})
    ).endswith(", ~1,234 to go")
