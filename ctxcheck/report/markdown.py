"""``proof.md``: the regression proof in Markdown, with the diagrams linked.

Every line is at most 80 columns, as in ``proof.txt``: verdicts are lists,
not tables, and the cited kernel lines and the trace files link through
reference-style links whose definitions (``[ref]: url``, one URL or path
each, which cannot be wrapped) follow their paragraph.
"""

from __future__ import annotations

import textwrap

from ctxcheck.render.text import render_violation, reproduce_command
from ctxcheck.report.collect import ModelReport, VariantReport
from ctxcheck.report.text import (
    WIDTH,
    cited_lines,
    fit_violation,
    follow_up_lines,
    lkmm_lines,
    verdict_line,
)
from ctxcheck.result import Violation


def _flat(text: str) -> str:
    return " ".join(text.split())


def _item(text: str, bullet: str = "- ") -> list[str]:
    """A list item wrapped to 80 columns (continuations indented under the text)."""
    return textwrap.wrap(
        _flat(text), WIDTH, initial_indent=bullet, subsequent_indent=" " * len(bullet),
        break_on_hyphens=False, break_long_words=False,
    ) or [bullet.rstrip()]  # fmt: skip


def _para(text: str) -> list[str]:
    return textwrap.wrap(_flat(text), WIDTH, break_on_hyphens=False, break_long_words=False)


def _code(lines: list[str]) -> list[str]:
    return ["```", *lines, "```"]


def model_section(mr: ModelReport) -> list[str]:
    """One model: verdicts, expectations, mutation check, counterexamples."""
    m = mr.model
    out = [f"## {m.name}", ""]
    if m.doc.strip():
        out += [*_para(m.doc.strip().splitlines()[0]), ""]
    if m.follows:
        out += [*_para(f"Code compared: {m.follows}"), ""]
    if mr.variants:
        r = mr.variants[0].result
        params = ", ".join(f"`{k}={v}`" for k, v in r.params.items()) or "none"
        out += [*_para(f"Bounds: parameters {params}; at most {r.bounds.max_steps} steps per "
                       f"execution; explorer `{r.explorer}`."), ""]  # fmt: skip
    out += ["Verdicts:", ""]
    for vr in mr.variants:
        r = vr.result
        how = "exhaustive" if r.exhaustive else "not exhaustive"
        out += _item(f"`{vr.variant}`: {verdict_line(vr)} ({how}, {r.stats.executions} "
                     f"executions)")  # fmt: skip
    out += ["", "Expectations:", ""]
    for vr in mr.variants:
        mark = "ok" if vr.judgement.met else "**FAILED**"
        out += _item(f"`{vr.variant}`: {mark}: {vr.judgement.text}")
        if vr.judgement.reason:
            out += _item(f"why: {vr.judgement.reason}", "  ")
    if mr.mutants:
        out += ["", "### Mutation check", ""]
        for row in mr.mutants:
            detail = f"`{row.prop}` in {row.steps} steps" if row.status == "CAUGHT" else row.reason
            out += _item(f"`{row.variant}`: **{row.status}** {detail}")
    if mr.follow_ups:
        out += ["", "### Later fixes against post", "", *_code(follow_up_lines(mr, ""))]
    for vr in mr.variants:
        for v in vr.result.violations:
            out += _counterexample(mr, vr, v)
    if mr.lkmm:
        out += ["", "### Under the Linux kernel memory model", "", *_code(lkmm_lines(mr)[1:])]
    out += ["", "Reproduce:", ""]
    runs = [*mr.variants, *mr.lkmm]
    out += _code([line for vr in runs for line in _item(reproduce_command(vr.result), "")])
    out += [""]
    return out


def _counterexample(mr: ModelReport, vr: VariantReport, v: Violation) -> list[str]:
    art = vr.artifacts.get(v.property, {})
    out = ["", f"### `{vr.variant}` violates `{v.property}`", ""]
    leaf = mr.model.name.rsplit(".", 1)[-1]
    label = {kind: f"{leaf}/{vr.variant}/{v.property}/{kind}" for kind in art}
    if "lanes" in art:
        out += [f"![lane diagram][{label['lanes']}]", ""]
    files = [f"[{kind}][{label[kind]}]" for kind in sorted(art)]
    if files:
        out += [*_para("Files: " + ", ".join(files)), ""]
        out += [f"[{label[kind]}]: {path}" for kind, path in sorted(art.items())] + [""]
    out += _code(fit_violation(render_violation(vr.result, v, v.trace_file)))
    cited = cited_lines(v)
    if cited:
        refs = [f"{rev}:{line}" for rev, _, line, _ in cited]
        paths = sorted({f"`{path}`" for _, path, _, _ in cited})
        out += [""]
        out += _para(f"Kernel lines cited ({', '.join(paths)}, commit:line): "
                     + ", ".join(f"[{ref}]" for ref in refs))  # fmt: skip
        out += [""] + [f"[{ref}]: {url}" for ref, (_, _, _, url) in zip(refs, cited, strict=True)]
    return out


def write_markdown(reports: list[ModelReport]) -> str:
    """The whole ``proof.md``."""
    ok = all(r.ok for r in reports)
    lines = ["# ctxcheck regression proof", "",
             "Every expectation met." if ok else "**Some expectations are not met.**", "",
             "Summary (model / variant: verdict):", ""]  # fmt: skip
    for mr in reports:
        for vr in mr.variants:
            lines += _item(f"`{mr.model.name}` / `{vr.variant}`: {verdict_line(vr)}")
    lines.append("")
    for mr in reports:
        lines += model_section(mr)
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"
