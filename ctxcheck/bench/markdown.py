"""Markdown for the benchmark tables, and splicing sections into BENCHMARKS.md.

The tables are written into the output file section by section: a section
a run produced replaces the section of the same heading, every other
section (other people's measurements) is kept where it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ctxcheck.errors import OutputError
from ctxcheck.output import write_output


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table; ``align`` has an ``l`` or ``r`` per column (default: labels
    in the first column, numbers right-aligned in the others)."""
    align = align or "l" + "r" * (len(headers) - 1)
    head = "| " + " | ".join(headers) + " |"
    rule = "|" + "|".join("---" if a == "l" else "--:" for a in align) + "|"
    body = ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def num(x: float) -> str:
    return f"{x:,.0f}"


def params_text(params: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "none"


# ------------------------------------------------------------ sections


def _split(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text before the first ``## `` heading, and each section with its heading.

    Headings inside fenced code blocks are text, not sections.
    """
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    fenced = False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append((line.rstrip("\n").strip(), [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return "".join(preamble), [(h, "".join(lines)) for h, lines in sections]


def merge_sections(existing: str, generated: str) -> str:
    """``existing`` with each section of ``generated`` put in the place of its namesake.

    A generated section replaces the section with the same heading, wherever
    it is; a new one is appended; every other section stays as it was, so
    tables that other tools or people maintain in the same file survive a
    benchmark run. The generated preamble (text before its first section),
    if any, replaces the existing one.
    """
    old_pre, old = _split(existing)
    new_pre, new = _split(generated)
    fresh = dict(new)
    out = [new_pre if new_pre.strip() else old_pre]
    for heading, body in old:
        out.append(fresh.pop(heading, body))
    out.extend(fresh.values())
    parts = [p if p.endswith("\n\n") else p.rstrip("\n") + "\n\n" for p in out if p.strip()]
    return "".join(parts).rstrip("\n") + "\n"


def write_sections(output: str, generated: str) -> None:
    """Merge ``generated`` into the file ``output`` (created when missing).

    The merged text replaces the file in one rename, so a failed write leaves
    the file as it was (:func:`ctxcheck.output.write_output`).
    """
    path = Path(output)
    try:
        existing = path.read_text() if path.is_file() else "# ctxcheck benchmarks\n"
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {output} to merge the tables into it: {exc}") from None
    write_output(path, merge_sections(existing, generated), "the benchmark tables")
