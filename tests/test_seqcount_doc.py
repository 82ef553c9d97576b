"""docs/seqcount.md runs as shown: its blocks are the model, and its trace is the one found."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import ctxcheck

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "seqcount.md"
MODEL_FILE = REPO / "models" / "examples" / "seqcount.py"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", DOC.read_text(), flags=re.S | re.M)


def test_the_model_blocks_are_the_model_file_in_order() -> None:
    *model, _usage = _blocks("python")
    source = MODEL_FILE.read_text()
    pos = 0
    for block in model:
        found = source.find(block, pos)
        assert found >= 0, f"not in {MODEL_FILE.name}, in this order:\n{block}"
        pos = found + len(block)


def test_the_blocks_run_as_shown() -> None:
    *model, usage = _blocks("python")
    module = types.ModuleType("seqcount_from_doc")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    try:
        exec(compile("".join(model), str(DOC), "exec"), module.__dict__)
        m = module.MODEL
        ctxcheck.check(m, variant="correct", writers=1, readers=2).assert_holds()
        bug = ctxcheck.check(m, variant="buggy", writers=1, readers=1)
        assert bug.assert_violates("no_torn_read").decided_step is not None
    finally:
        del sys.modules[module.__name__]
    exec(compile(usage, str(DOC), "exec"), {})


def test_the_trace_shown_is_the_one_found(seqcount_buggy: ctxcheck.Result) -> None:
    text = DOC.read_text()
    block = text.split("<!-- trace: buggy -->\n```text\n", 1)[1].split("```", 1)[0]
    v = seqcount_buggy.assert_violates("no_torn_read")
    steps = [line for line in block.splitlines() if re.match(r"\s*\d+[ *]", line)]
    assert len(steps) == len(v.events)
    for line, event in zip(steps, v.events, strict=True):
        assert event.thread in line and event.text in line, line
    assert v.decided_step is not None
    marked = block.splitlines().index(steps[v.decided_step - 1]) + 1
    assert "^ this step decided it" in block.splitlines()[marked]
    assert f"step {v.decided_step} decided it" in block
    assert "returned: reader0 = (" in block
