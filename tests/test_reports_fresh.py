"""The committed regression proof (``reports/``) is what ``ctxcheck prove`` writes today.

One fresh ``ctxcheck prove perf_counter`` runs for the module, from the
repository root as the committed reports were made, into a scratch
directory. Its proof.txt and proof.md must equal the committed ones once the
scratch directory's name reads ``reports`` (a replay command, which may go
on a continuation line with the longer name, is compared joined), and its
counterexample traces the committed trace files (the JSON is deterministic;
only timings.txt varies and is not compared). The
same run is held to what the proof promises a reviewer: every expectation
met, every search exhaustive, text within 80 columns, each cited kernel
line linked to the upstream source at its commit.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ctxcheck.report.collect import ModelReport
from ctxcheck.report.prove import run

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "reports"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ModelReport], int]:
    out = tmp_path_factory.mktemp("prove") / "reports"
    before = Path.cwd()
    os.chdir(REPO)  # model paths in traces are relative to where prove runs
    try:
        reports, _notes, status = run(["perf_counter"], out)
    finally:
        os.chdir(before)
    return out, reports, status


def normalized(text: str, out: Path) -> str:
    """``text`` as if written to ``reports/``, replay commands on one line."""
    text = text.replace(str(out), "reports")
    return re.sub(r"(ctxcheck replay) \\\n\s*", r"\1 ", text)


def test_every_expectation_is_met_and_every_search_exhaustive(
    fresh: tuple[Path, list[ModelReport], int],
) -> None:
    _, reports, status = fresh
    failed = [
        f"{mr.model.name} [{vr.variant}]: {vr.judgement.text}"
        for mr in reports
        for vr in mr.variants
        if not vr.judgement.met
    ]
    assert status == 0 and not failed, failed
    cut = [
        f"{mr.model.name} [{vr.variant}]"
        for mr in reports
        for vr in mr.variants
        if not vr.result.exhaustive
    ]
    assert not cut, f"not exhaustive: {cut}"


@pytest.mark.parametrize("name", ["proof.txt", "proof.md"])
def test_committed_proof_is_fresh(fresh: tuple[Path, list[ModelReport], int], name: str) -> None:
    out, _, _ = fresh
    fresh_text = normalized((out / name).read_text(), out)
    assert fresh_text == normalized((COMMITTED / name).read_text(), out), (
        f"reports/{name} is stale: regenerate with `ctxcheck prove perf_counter -o reports`"
    )


def test_committed_traces_are_fresh(fresh: tuple[Path, list[ModelReport], int]) -> None:
    out, _, _ = fresh
    new = {p.relative_to(out): p for p in (out / "traces").rglob("*.json")}
    old = {p.relative_to(COMMITTED): p for p in (COMMITTED / "traces").rglob("*.json")}
    assert sorted(new) == sorted(old), "the set of committed trace files is stale"
    for rel, path in new.items():
        a, b = comparable(path), comparable(old[rel])
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        assert a == b, f"{rel} is stale: {diff} {[(a.get(k), b.get(k)) for k in diff][:2]}"


def comparable(path: Path) -> dict[str, object]:
    """A trace file as JSON data, footprints included.

    (The footprints once came out empty when the same process had run other
    searches before: object ids were a process-wide table. Ids now belong to
    one search, and the full suite holds the footprints too.)
    """
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_text_fits_a_mail_reply() -> None:
    # the committed files, which equal a fresh run (above): the scratch
    # directory's longer name would widen the replay paths
    for name in ("proof.txt", "proof.md"):
        # a link definition holds one URL or path, which cannot be wrapped
        wide = [
            (n, line) for n, line in enumerate((COMMITTED / name).read_text().splitlines(), 1)
            if len(line) > 80 and not re.fullmatch(r"\[[^\]]+\]: \S+", line)
        ]  # fmt: skip
        assert not wide, f"{name}: lines wider than 80 columns: {wide[:3]}"


def test_cited_kernel_lines_link_to_their_commit(
    fresh: tuple[Path, list[ModelReport], int],
) -> None:
    out, _, _ = fresh
    md = (out / "proof.md").read_text()
    page = (out / "index.html").read_text()
    post = "https://github.com/torvalds/linux/blob/a63eaf34ae60bdb067a354cc8def2e8f4a01f5f4/"
    pre = "https://github.com/torvalds/linux/blob/34adc8062227f41b04ade0ff3fbd1dbe3002669e/"
    assert f"[a63eaf34:1282]: {post}kernel/perf_counter.c#L1282" in md
    assert f"[34adc806:129]: {pre}kernel/perf_counter.c#L129" in md
    assert f'href="{post}kernel/perf_counter.c#L1295"' in page
