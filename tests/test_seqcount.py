"""``examples.seqcount``: the seqcount_t reader/writer model and its torn read.

The correct variant holds for 2 writers and 2 readers on every schedule,
with the readers' spin on an odd count written with the wait primitive
and their retry loop uncapped: no ``termination``, no ``deadlock``. The
buggy variant (an odd count accepted) is caught with a torn pair.
"""

from __future__ import annotations

import pytest

import ctxcheck
from ctxcheck.explorers import get_explorer
from ctxcheck.loader import load_model
from ctxcheck.options import Bounds

MODEL = "examples.seqcount"


def test_correct_holds_for_two_writers_and_two_readers_exhaustively() -> None:
    """The done-when of issue 19 (about 30 s on 2 shared cores: 22,898 executions)."""
    result = ctxcheck.check(MODEL, variant="correct", writers=2, readers=2)
    result.assert_holds()
    assert result.exhaustive and result.stats.executions > 1000


@pytest.mark.parametrize(
    ("explorer", "readers"), [("naive", 1), ("bfs", 2), ("dpor", 2), ("odpor", 2)]
)
def test_correct_holds_small_under_every_exhaustive_explorer(explorer: str, readers: int) -> None:
    result = ctxcheck.check(MODEL, variant="correct", explorer=explorer, writers=1, readers=readers)
    result.assert_holds()


def test_buggy_is_caught_with_a_torn_pair(seqcount_buggy: ctxcheck.Result) -> None:
    v = seqcount_buggy.assert_violates("no_torn_read")
    assert "returned (" in v.message and "half of a write" in v.message
    # the reader accepted an odd count: its begin load saw one
    begins = [e for e in v.events if e.function == "read_seqcount_begin_buggy"]
    assert any(int(e.value or 0) % 2 for e in begins)


@pytest.mark.parametrize("explorer", ["bfs", "dpor"])
def test_buggy_small_is_violated_exhaustively(explorer: str) -> None:
    model = load_model(MODEL)
    config = model.config("buggy", {"writers": 1, "readers": 1})
    out = get_explorer(explorer)(model, config, Bounds(max_steps=model.max_steps)).run()
    assert out.exhaustive
    assert sorted(out.discoveries) == ["no_torn_read"]
