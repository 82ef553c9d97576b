"""The docs table: each litmus test, what it checks, expected and found.

``python -m ctxcheck.lkmm.table DIR`` prints it in Markdown; the test suite
regenerates it and compares it with docs/lkmm-litmus-table.md, so the table
in the docs is always what ctxcheck answers today.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ctxcheck.lkmm.verdict import Verdict, load, run_test


def summary(doc: str) -> str:
    """The first sentence of a test's doc comment after its Result line."""
    text = re.sub(r"\(\*|\*\)", " ", doc)
    text = re.sub(r"^\s*\*", " ", text, flags=re.MULTILINE)
    text = re.sub(r"Result:\s*\w+(\s+DATARACE)?", " ", text)
    text = " ".join(text.split())
    match = re.match(r"(.+?[.?!])(\s|$)", text)
    return (match.group(1) if match else text).replace("|", "\\|")


def row(v: Verdict) -> str:
    t = v.test
    agree = "yes" if v.agrees else "**NO**"
    return (
        f"| `{t.name}` | {summary(t.doc)} | {t.expected} | "
        f"{'DEADLOCK' if v.deadlock else v.result} | {agree} | "
        f"{len(v.states)} | {'yes' if v.data_race else 'no'} |"
    )


def table(folder: Path) -> str:
    """The Markdown table of every ``*.litmus`` file in ``folder``."""
    verdicts = [run_test(load(str(p))) for p in sorted(folder.glob("*.litmus"))]
    agree = sum(v.agrees for v in verdicts)
    lines = [
        "| test | what it checks | expected (Result:) | ctxcheck | agrees | states | data race |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[row(v) for v in verdicts],
        "",
        f"{agree}/{len(verdicts)} tests get their expected verdict.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ctxcheck.lkmm.table DIR", file=sys.stderr)
        return 2
    sys.stdout.write(table(Path(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
