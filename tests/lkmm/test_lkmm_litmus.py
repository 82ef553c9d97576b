"""Every litmus test of tools/memory-model/litmus-tests/ gets its Result line.

The files under ``litmus/`` are written for ctxcheck from each upstream
test's description (same shape and name, own words and layout); the
``Result:`` line of each is the upstream expectation.  ``STATES`` pins the
number of distinct final states, as herd7 counts them.  ``doc/`` holds
copies written the same way of the shapes of Documentation/litmus-tests/
(atomic, locking, RCU); ``extra/`` tests what neither directory exercises
(RCU grace periods with dependencies, SRCU, data races, failed cmpxchg, ...)
and ``docs/litmus/`` the worked example of the reviewers' chapter.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxcheck.lkmm.verdict import Verdict, load, run_test

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

#: the 35 tests of tools/memory-model/litmus-tests/ and their final-state counts
STATES = {
    "CoRR+poonceonce+Once": 3,
    "CoRW+poonceonce+Once": 3,
    "CoWR+poonceonce+Once": 3,
    "CoWW+poonceonce": 1,
    "IRIW+fencembonceonces+OnceOnce": 15,
    "IRIW+poonceonces+OnceOnce": 16,
    "ISA2+pooncelock+pooncelock+pombonce": 7,
    "ISA2+poonceonces": 8,
    "ISA2+pooncerelease+poacquirerelease+poacquireonce": 7,
    "LB+fencembonceonce+ctrlonceonce": 2,
    "LB+poacquireonce+pooncerelease": 3,
    "LB+poonceonces": 4,
    "LB+unlocklockonceonce+poacquireonce": 3,
    "MP+fencewmbonceonce+fencermbonceonce": 3,
    "MP+onceassign+derefonce": 2,
    "MP+polockmbonce+poacquiresilsil": 7,
    "MP+polockonce+poacquiresilsil": 8,
    "MP+polocks": 3,
    "MP+poonceonces": 4,
    "MP+pooncerelease+poacquireonce": 3,
    "MP+porevlocks": 3,
    "MP+unlocklockonceonce+fencermbonceonce": 3,
    "R+fencembonceonces": 3,
    "R+poonceonces": 4,
    "S+fencewmbonceonce+poacquireonce": 3,
    "S+poonceonces": 4,
    "SB+fencembonceonces": 3,
    "SB+poonceonces": 4,
    "SB+rfionceonce-poonceonces": 4,
    "WRC+poonceonces+Once": 8,
    "WRC+pooncerelease+fencermbonceonce+Once": 7,
    "Z6.0+pooncelock+poonceLock+pombonce": 7,
    "Z6.0+pooncelock+pooncelock+pombonce": 8,
    "Z6.0+pooncerelease+poacquirerelease+fencembonceonce": 8,
    "dep+plain": 1,
}


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.litmus"))


def _verdict(path: Path) -> Verdict:
    return run_test(load(str(path)))


def test_the_copies_are_the_upstream_set() -> None:
    assert {p.stem for p in _files(HERE / "litmus")} == set(STATES)


@pytest.mark.parametrize("path", _files(HERE / "litmus"), ids=lambda p: p.stem)
def test_upstream_shape_gets_its_result(path: Path) -> None:
    v = _verdict(path)
    assert v.test.name == path.stem
    assert v.test.expected in ("Always", "Sometimes", "Never")
    assert v.result == v.test.expected
    assert len(v.states) == STATES[path.stem]
    assert not v.data_race
    assert (v.witness is not None) == (v.result == "Sometimes")


@pytest.mark.parametrize(
    "path",
    _files(HERE / "doc") + _files(HERE / "extra") + _files(REPO / "docs" / "litmus"),
    ids=lambda p: p.stem,
)
def test_extra_and_chapter_tests_get_their_result(path: Path) -> None:
    v = _verdict(path)
    assert v.agrees
    assert v.data_race == v.test.expected_race


def test_a_sometimes_witness_reaches_the_condition() -> None:
    from ctxcheck.lkmm.litmus import condition
    from ctxcheck.lkmm.verdict import final_state

    v = _verdict(HERE / "litmus" / "MP+poonceonces.litmus")
    assert v.witness is not None
    assert condition.holds(v.test.cond, final_state(v.witness, v.keys))


def test_the_docs_table_is_current() -> None:
    import re

    from ctxcheck.lkmm.table import table

    doc = (REPO / "docs" / "lkmm-litmus-table.md").read_text()
    blocks = re.findall(r"<!-- table: (\S+) -->\n(.*?)<!-- end table -->", doc, re.DOTALL)
    assert [folder for folder, _ in blocks] == [
        "tests/lkmm/litmus",
        "tests/lkmm/doc",
        "tests/lkmm/extra",
        "docs/litmus",
    ]
    for folder, text in blocks:
        assert text == table(REPO / folder), f"regenerate: python3 -m ctxcheck.lkmm.table {folder}"
    assert "35/35 tests get their expected verdict." in doc
