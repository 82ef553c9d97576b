"""docs/reference.md lists every ``k.`` operation the Kernel handle offers, as it is.

The table between the ``kernel-table`` markers is built from the Kernel
class itself (signature, whether it is a step or a helper, the first
paragraph of its docstring), so a new primitive or a changed signature
makes this test fail until the page is regenerated:

    python3 tests/test_docs_reference.py
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from ctxcheck.kernel import Kernel

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"
BEGIN, END = "<!-- kernel-table -->", "<!-- /kernel-table -->"
HOW = {"Op": "`yield`", "Steps": "`yield from`"}


def _call(name: str, method: object) -> str:
    def shown(p: inspect.Parameter) -> str:
        if p.kind is p.VAR_POSITIONAL:
            return "*" + p.name
        if p.kind is p.VAR_KEYWORD:
            return "**" + p.name
        return p.name if p.default is p.empty else f"{p.name}={p.default!r}"

    params = list(inspect.signature(method).parameters.values())[1:]  # type: ignore[arg-type]
    return f"k.{name}({', '.join(shown(p) for p in params)})"


def _doc(obj: object) -> str:
    text = " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())
    text = re.sub(r":(meth|class|func|mod|data):", "", text).replace("``", "`")
    return text.replace("|", "\\|")


def kernel_table() -> str:
    """The markdown table of every public name of :class:`Kernel`."""
    rows = ["| call | how | what it is |", "|---|---|---|"]
    for name in sorted(n for n in dir(Kernel) if not n.startswith("_")):
        member = getattr(Kernel, name)
        if isinstance(member, property):
            rows.append(f"| `k.{name}` | attribute | {_doc(member)} |")
            continue
        ret = inspect.signature(member).return_annotation
        how = HOW.get(ret, "plain call")
        rows.append(f"| `{_call(name, member)}` | {how} | {_doc(member)} |")
    return "\n".join(rows)


def _block(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n")


def test_reference_lists_every_kernel_operation_as_it_is() -> None:
    assert _block(PAGE.read_text()) == kernel_table(), (
        "docs/reference.md is stale: regenerate with `python3 tests/test_docs_reference.py`"
    )


def test_the_table_names_every_step_with_how_to_call_it() -> None:
    table = kernel_table()
    assert "| `k.store(cell, value)` | `yield` |" in table
    assert "| `k.spin_lock_irqsave(lock)` | `yield from` |" in table
    assert "| `k.BUG_ON(condition, message='BUG_ON')` | plain call |" in table


if __name__ == "__main__":
    page = PAGE.read_text()
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    PAGE.write_text(f"{head}{BEGIN}\n{kernel_table()}\n{END}{tail}")
