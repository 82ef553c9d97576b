"""Progress on stderr when it is not a terminal: plain lines every few seconds; --quiet."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ctxcheck import cli
from ctxcheck.progress import DEFAULT_INTERVAL, PlainProgress, interval, progress_text

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


@pytest.mark.parametrize("value", ["soon", "nan", "inf", "-inf", "0", "-2", "1e400"])
def test_a_bad_interval_is_a_usage_error_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI's error path: exit 2, one line naming the variable and what it takes."""
    monkeypatch.setenv("CTXCHECK_PROGRESS_INTERVAL", value)
    monkeypatch.chdir(REPO)
    status = cli.main(["check", "examples.lost_update", "--variant", "racy"])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""  # refused before the search
    assert err.startswith(f"ctxcheck: error: $CTXCHECK_PROGRESS_INTERVAL is {value!r}: "), err
    assert "must be a positive finite number of seconds" in err and "Traceback" not in err


def test_a_bad_interval_exits_2_from_the_console_entry(tmp_path: Path) -> None:
    env = {**os.environ, "CTXCHECK_PROGRESS_INTERVAL": "nan", "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "ctxcheck", "check", "examples.lost_update"]
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "$CTXCHECK_PROGRESS_INTERVAL is 'nan'" in proc.stderr


def test_quiet_does_not_read_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """--quiet shows no progress, so a setting for progress lines cannot stop it."""
    monkeypatch.setenv("CTXCHECK_PROGRESS_INTERVAL", "nan")
    monkeypatch.chdir(REPO)
    assert cli.main(["check", "examples.lost_update", "--variant", "racy", "--quiet"]) == 1


@pytest.mark.parametrize(
    ("value", "seconds"), [("", DEFAULT_INTERVAL), ("0.25", 0.25), (" 7 ", 7.0)]
)
def test_a_good_or_empty_interval_is_taken(
    value: str, seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTXCHECK_PROGRESS_INTERVAL", value)
    assert interval() == seconds
