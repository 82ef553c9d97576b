"""``ctxcheck bench --spin``: SPIN and ctxcheck side by side, checked in seconds.

The real run takes the better part of an hour (SPIN at 6 and 7 openers);
these tests run the section at N = 2 with SPIN hidden from PATH (the
section must say it is not installed and how to get it, and still measure
ctxcheck), parse pan reports SPIN 6.5.2 really printed (``tests/golden/pan``:
a proof, a violation, a run out of memory), check which runs are skipped
after a failure, and, where SPIN is installed, run it end to end once.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ctxcheck import bench
from ctxcheck.bench import spin
from ctxcheck.bench.spin import CheckRun, PanResult, SpinRun, SpinSettings

Cli = Callable[..., "subprocess.CompletedProcess[str]"]
PAN = Path(__file__).resolve().parent / "golden" / "pan"


def _rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    names = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=True))
            for line in lines[1:]]  # fmt: skip


def test_without_spin_the_section_says_how_to_install_it_and_measures_ctxcheck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no spin, no gcc
    out = tmp_path / "BENCHMARKS.md"
    settings = SpinSettings(first=2, last=2, cap=60.0, explorers=("dpor", "odpor"))
    assert bench.main(spin=settings, output=str(out)) == 0
    text = out.read_text()
    assert "## SPIN side by side" in text
    assert "SPIN is not installed here" in text and "`apt-get install spin`" in text
    assert "missing: spin, gcc" in text
    (row,) = _rows(text)
    assert row["N"] == "2" and row["SPIN states"] == "not installed"
    for name in ("dpor", "odpor"):  # post at 2 openers: 2 winners x who loaded NULL first
        assert row[f"{name} executions"] == "4"
        assert (row[f"{name} verdict"], row[f"{name} exhaustive"]) == ("holds", "yes")
    assert "ctxcheck bench --spin --spin-openers 2..2 --spin-cap 60" in text
    assert "Only ctxcheck finished" not in text  # no SPIN ran: nothing to compare


def test_pan_reports_are_read_as_spin_printed_them() -> None:
    proof = bench.parse_pan((PAN / "post_n3.txt").read_text())
    assert proof == PanResult("holds", 8721, 0.01, 662.839, failed=False)
    bug = bench.parse_pan((PAN / "m_store_n3.txt").read_text())
    assert bug.verdict == "violated: (counter_ctx[i]==ctxp)" and not bug.failed
    assert bug.states == 449
    full = bench.parse_pan((PAN / "post_n5_memlim700.txt").read_text(), memlim=700)
    assert full.verdict == "out of memory (MEMLIM 700 MB)" and full.failed
    assert full.states == 456737 and full.memory_mb == 699.948
    big = bench.parse_pan((PAN / "post_n5.txt").read_text())  # progress lines first
    assert (big.verdict, big.states, big.seconds, big.memory_mb) == ("holds", 5374945, 12.3,
                                                                     1108.542)  # fmt: skip
    assert bench.parse_pan(" 1.2838e+08 states, stored\nerrors: 0\n").states == 128380000
    assert bench.parse_pan("Segmentation fault").verdict == "incomplete"


def _fake_spin(fail_at: int) -> Callable[[int, SpinSettings], SpinRun]:
    def run(n: int, settings: SpinSettings) -> SpinRun:
        if n >= fail_at:
            return SpinRun(n, PanResult("out of memory (MEMLIM 1 MB)", failed=True), 9.0)
        return SpinRun(n, PanResult("holds", 10**n, 0.1, 700.0), 2.0)

    return run


def _fake_check(cut_at: int) -> Callable[[int, str, float], CheckRun]:
    def run(n: int, explorer: str, cap: float) -> CheckRun:
        cut = explorer == "bfs" and n >= cut_at
        seconds = 3.0 if n == 2 else 1.0  # slower than SPIN at 2 only
        return CheckRun(explorer, n, "inconclusive" if cut else "holds", not cut, n, None,
                        seconds, seconds, cut)  # fmt: skip

    return run


def test_a_tool_that_failed_is_not_run_at_larger_n(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spin, "run_spin", _fake_spin(fail_at=4))
    monkeypatch.setattr(spin, "run_ctxcheck", _fake_check(cut_at=3))
    rows = spin.spin_rows(SpinSettings(first=2, last=6))
    assert [r.spin is not None for r in rows] == [True, True, True, False, False]
    assert [r.checks["bfs"] is not None for r in rows] == [True, True, False, False, False]
    assert all(r.checks["dpor"] is not None for r in rows)
    text = spin.spin_section(rows, SpinSettings(first=2, last=6), ["Measured by a test."], "x")
    table = {r["N"]: r for r in _rows(text)}
    assert table["4"]["SPIN verdict"] == "out of memory (MEMLIM 1 MB)"
    assert table["5"]["SPIN states"] == "-" and table["4"]["bfs executions"] == "-"
    assert table["3"]["bfs exhaustive"] == "no (cut)"
    assert "slower than SPIN end to end at N=2 (dpor 3.0 s against 2.0 s)." in text
    assert "Only ctxcheck finished at N = 4, 5, 6." in text
    # each explorer that lost somewhere is named: which one says where the cost is
    assert "odpor was slower than SPIN at N=2 (3.0 s against 2.0 s)." in text
    assert (
        "bfs was slower than SPIN at N=2 (3.0 s against 2.0 s) and cut at N = 3, where SPIN "
        "finished." in text
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"openers": "2-8"}, "--spin-openers '2-8': expected A..B"),
        ({"openers": "0..3"}, "expected A..B with 1 <= A"),
        ({"openers": "5..3"}, "expected A..B with 1 <= A"),
        ({"memlim": 10**6}, "--spin-memlim 1000000: give 1.."),
        ({"models": "/nonexistent"}, "--spin-models /nonexistent: there is no ctx_create.pml"),
    ],
)
def test_bad_spin_options_are_usage_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(bench.UsageError, match="--spin") as err:
        bench.spin_settings(**kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)
    assert bench.spin_settings().memlim <= spin.MEMLIM_MAX_MB


def test_spin_end_to_end_at_two_openers() -> None:
    # .ci/setup installs SPIN, so CI runs the real thing; a machine without it
    # must at least say how to get it
    if not (shutil.which("spin") and shutil.which("gcc")):
        note, usable = spin.spin_note(SpinSettings(first=2, last=2, cap=120.0, memlim=2000))
        assert not usable and "apt-get install spin" in note and "missing: " in note
        return
    run = spin.run_spin(2, SpinSettings(first=2, last=2, cap=120.0, memlim=2000))
    assert (run.pan.verdict, run.pan.states, run.cut) == ("holds", 425, False)
    assert run.pan.memory_mb is not None and run.pan.memory_mb < 2000
