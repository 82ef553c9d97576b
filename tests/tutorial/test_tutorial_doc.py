"""docs/writing-a-model.md stays true: its code, its trace and its numbers.

Every Python block of the tutorial must be a verbatim excerpt of the files
in this directory, the trace it shows must be the counterexample ctxcheck
finds now (thread and operation of each step, in order), and the summary
line it shows must have the plugin's format and count the tutorial's checks.
"""

from __future__ import annotations

import re
from pathlib import Path

import llist

import ctxcheck

HERE = Path(__file__).resolve().parent
DOC = HERE.parent.parent / "docs" / "writing-a-model.md"
SOURCES = {path.name: path.read_text() for path in HERE.glob("*.py")}


def _blocks(lang: str) -> list[str]:
    text = DOC.read_text()
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, flags=re.S | re.M)


def test_every_python_block_is_an_excerpt_of_the_tutorial_code() -> None:
    blocks = _blocks("python")
    assert len(blocks) >= 10
    for block in blocks:
        homes = [name for name, source in SOURCES.items() if block in source]
        assert homes, f"this tutorial block is not in tests/tutorial/*.py:\n{block}"


def test_every_model_function_is_shown() -> None:
    shown = "".join(_blocks("python"))
    for name in ("llist_add", "llist_del_first", "llist_del_all", "producer",
                 "consumer_del_first", "consumer_locked", "consumer_del_all", "setup",
                 "no_lost_node"):  # fmt: skip
        assert f"def {name}(" in shown


def test_the_trace_shown_is_the_one_found() -> None:
    text = DOC.read_text()
    block = text.split("<!-- trace: del_first -->\n```text\n", 1)[1].split("```", 1)[0]
    result = ctxcheck.check(llist.MODEL, variant="del_first")
    bug = result.assert_violates("memory_safety")
    assert f"violates memory_safety in {bug.steps} steps ({bug.preemptions} preemption)" in block
    step_lines = [line for line in block.splitlines() if re.match(r"\s*\d+[ *]", line)]
    assert len(step_lines) == len(bug.events)
    for line, event in zip(step_lines, bug.events, strict=True):
        assert event.thread in line and event.function in line and event.text in line, line
        assert (f"*{event.thread}" in line) == event.preemption, line
    assert bug.message.split(":")[0] in block


def test_the_summary_line_shown_has_the_plugin_format() -> None:
    """The line's format and counts; the execution count depends on the DPOR in use."""
    (console,) = _blocks("console")
    pattern = (
        r"ctxcheck: models checked: 1 \(4 checks\), executions explored: \d+, "
        r"inconclusive checks: 0, violated checks: 1"
    )
    assert re.search(pattern, console)
    tests = SOURCES["test_llist.py"]
    assert tests.count("ctxcheck.check(") == 3  # one of them parametrized over two variants
    assert '@pytest.mark.parametrize("variant", ["locked", "del_all"])' in tests


def test_a_small_budget_makes_the_fixes_inconclusive() -> None:
    result = ctxcheck.check(llist.MODEL, variant="locked", max_executions=10)
    assert result.verdict == "inconclusive"
    assert "inconclusive (search stopped: max_executions=10)" in result.summary()


def test_the_model_blocks_run_as_shown() -> None:
    """The blocks of llist.py, imports included, pasted in the file's order, make a model."""
    import sys
    import types

    source = SOURCES["llist.py"]
    model_blocks = sorted((b for b in _blocks("python") if b in source), key=source.index)
    assert model_blocks[0].startswith("from __future__ import annotations")
    module = types.ModuleType("llist_from_doc")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    try:
        exec(compile("\n".join(model_blocks), str(DOC), "exec"), module.__dict__)
        result = ctxcheck.check(module.MODEL, variant="del_first")
        assert result.violated() == llist_violated()
    finally:
        del sys.modules[module.__name__]


def llist_violated() -> list[str]:
    return ctxcheck.check(llist.MODEL, variant="del_first").violated()
