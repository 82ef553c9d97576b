"""``proof.txt``: the regression proof as plain text for a mail reply (<= 80 columns)."""

from __future__ import annotations

import textwrap

from ctxcheck.render.text import render_violation, reproduce_command
from ctxcheck.report.collect import ModelReport, VariantReport
from ctxcheck.result import LKMM_BOUNDS, Violation

WIDTH = 80


def _wrap(text: str, indent: str = "", sub: str | None = None) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent if sub is None else sub,
        break_on_hyphens=False, break_long_words=True,
    ) or [indent.rstrip()]  # fmt: skip


def fit_violation(text: str) -> list[str]:
    """A counterexample's text within 80 columns.

    The one line that can be wider is the replay command, whose trace path
    is a single word: it goes on a continuation line of its own.
    """
    out: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(line) > WIDTH and words[:2] == ["ctxcheck", "replay"]:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}{' '.join(words[:2])} \\")
            out.append(f"{indent}{' '.join(words[2:])}")
        else:
            out.append(line)
    return out


def cited_lines(v: Violation) -> list[tuple[str, str, int, str]]:
    """Each kernel line the trace cites, once, in step order: (revision, path, line, url)."""
    seen: dict[tuple[str, str, int], str] = {}
    for e in v.events:
        c = e.cite
        if c is not None and c.url and (c.revision, c.path, c.line) not in seen:
            seen[(c.revision, c.path, c.line)] = c.url
    return [(rev, path, line, url) for (rev, path, line), url in seen.items()]


def follow_up_lines(mr: ModelReport, indent: str = "  ") -> list[str]:
    """Per later fix: which of post's findings it closes and which remain."""
    out: list[str] = []
    if mr.follow_ups:
        out += _wrap(
            "(findings by property and the function where the minimal "
            "counterexample ends; one race may end in another function)",
            indent,
        )
    for fu in mr.follow_ups:
        cut = "" if fu.exhaustive else " (search not exhaustive)"
        out += _wrap(f"{fu.variant} against post{cut}:", indent)
        for label, props in (("closes", fu.closes), ("remains", fu.remains), ("new", fu.new)):
            out += _wrap(f"{label}: {', '.join(props) or '-'}", indent + "  ", indent + "    ")
    return out


def _bounds(vr: VariantReport) -> str:
    r = vr.result
    params = ", ".join(f"{k}={v}" for k, v in r.params.items()) or "no parameters"
    how = "exhaustive" if r.exhaustive else f"NOT exhaustive ({r.stopped})"
    return f"{params}; at most {r.bounds.max_steps} steps per execution; {r.explorer}, {how}"


def verdict_line(vr: VariantReport) -> str:
    """``holds`` or ``VIOLATED p (n steps), ...`` with the execution count."""
    r = vr.result
    if r.violations:
        what = ", ".join(f"{v.property} ({v.steps} steps)" for v in r.violations)
        return f"VIOLATED {what}"
    if r.verdict == "holds":
        return f"holds: all properties, {r.stats.executions} executions"
    return f"inconclusive ({r.stopped})"


def model_section(mr: ModelReport) -> list[str]:
    """The text of one model: bounds, verdicts, mutation table, traces."""
    m = mr.model
    title = f"{m.name}"
    out = [title, "=" * len(title)]
    if m.doc.strip():
        out += _wrap(m.doc.strip().splitlines()[0])
    if m.follows:
        out += _wrap(f"Code compared: {m.follows}")
    if mr.variants:
        out += _wrap(f"Bounds: {_bounds(mr.variants[0])}")
    out += ["", "Verdicts per variant:"]
    for vr in mr.variants:
        out += _wrap(f"{vr.variant}: {verdict_line(vr)}", "  ", "      ")
    out += ["", "Expectations:"]
    for vr in mr.variants:
        mark = "ok " if vr.judgement.met else "FAILED"
        out += _wrap(f"[{mark}] {vr.variant}: {vr.judgement.text}", "  ", "        ")
        if vr.judgement.reason:
            out += _wrap(f"why: {vr.judgement.reason}", "        ")
    if mr.mutants:
        out += ["", "Mutation check (each fix of the patch removed on its own):"]
        for row in mr.mutants:
            if row.status == "CAUGHT":
                text = f"CAUGHT by {row.prop} in {row.steps} steps"
            else:
                text = f"{row.status}: {row.reason}"
            out += _wrap(f"{row.variant:<28} {text}", "  ", " " * 31)
    if mr.follow_ups:
        out += ["", "Later fixes (each against post's violations):"]
        out += follow_up_lines(mr)
    for vr in mr.variants:
        for v in vr.result.violations:
            out += ["", "-" * WIDTH]
            out += fit_violation(render_violation(vr.result, v, v.trace_file))
    if mr.lkmm:
        out += ["", *lkmm_lines(mr)]
    out += ["", "Reproduce each verdict:"]
    for vr in [*mr.variants, *mr.lkmm]:
        out += _wrap(reproduce_command(vr.result), "  $ ", "      ")
    return out


def lkmm_lines(mr: ModelReport) -> list[str]:
    """The model's questions under the Linux kernel memory model, as text."""
    out = ["Under the Linux kernel memory model (--memory-model lkmm):"]
    out += _wrap(f"Bounds: {_bounds(mr.lkmm[0])}; {LKMM_BOUNDS}", "  ", "  ")
    for vr in mr.lkmm:
        mark = "ok " if vr.judgement.met else "FAILED"
        out += _wrap(f"[{mark}] {vr.variant}: {verdict_line(vr)}: {vr.judgement.text}",
                     "  ", "        ")  # fmt: skip
        if vr.judgement.reason:
            out += _wrap(f"why: {vr.judgement.reason}", "        ")
    barrier = mr.barrier_lines()
    if barrier:
        out += ["", "What the barrier does:"]
        for line in barrier:
            out += _wrap(line, "  ", "    ")
    for vr in mr.lkmm:
        for v in vr.result.violations:
            out += ["", "-" * WIDTH, f"[lkmm] {vr.variant}:"]
            out += fit_violation(render_violation(vr.result, v, None))
    return out


def write_text(reports: list[ModelReport]) -> str:
    """The whole ``proof.txt``."""
    lines = ["ctxcheck regression proof", "=========================", ""]
    ok = all(r.ok for r in reports)
    lines += _wrap(
        "Every expectation met." if ok else "Some expectations are NOT met: see FAILED/MISSED."
    )
    lines.append("")
    lines.append("Summary (model / variant: verdict):")
    for mr in reports:
        for vr in mr.variants:
            lines += _wrap(f"{mr.model.name} / {vr.variant}: {verdict_line(vr)}", "  ", "      ")
    for mr in reports:
        lines += ["", "", *model_section(mr)]
    text = "\n".join(line.rstrip() for line in lines) + "\n"
    return text
