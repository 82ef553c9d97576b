"""``proof.md``: the regression proof in Markdown, with the diagrams linked."""

from __future__ import annotations

from ctxcheck.render.text import render_violation, reproduce_command
from ctxcheck.report.collect import ModelReport
from ctxcheck.report.text import cited_lines, fit_violation, follow_up_lines, verdict_line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def model_section(mr: ModelReport) -> list[str]:
    """One model: verdict table, expectations, mutation table, counterexamples."""
    m = mr.model
    out = [f"## {m.name}", ""]
    if m.doc.strip():
        out += [_cell(m.doc.strip().splitlines()[0]), ""]
    if m.follows:
        out += [f"Code compared: {_cell(m.follows)}", ""]
    if mr.variants:
        r = mr.variants[0].result
        params = ", ".join(f"`{k}={v}`" for k, v in r.params.items()) or "none"
        out += [f"Bounds: parameters {params}; at most {r.bounds.max_steps} steps per "
                f"execution; explorer `{r.explorer}`.", ""]  # fmt: skip
    out += ["| variant | verdict | exhaustive | executions | expectation |",
            "|---|---|---|---|---|"]  # fmt: skip
    for vr in mr.variants:
        r = vr.result
        mark = "ok" if vr.judgement.met else "**FAILED**"
        out.append(
            f"| `{vr.variant}` | {_cell(verdict_line(vr))} | {'yes' if r.exhaustive else 'no'} "
            f"| {r.stats.executions} | {mark}: {_cell(vr.judgement.text)} |"
        )
    reasons = [vr for vr in mr.variants if vr.judgement.reason]
    if reasons:
        out += ["", "Why each expectation:", ""]
        out += [f"- `{vr.variant}`: {_cell(vr.judgement.reason)}" for vr in reasons]
    if mr.mutants:
        out += ["", "### Mutation check", "", "| mutant | result | detail |", "|---|---|---|"]
        for row in mr.mutants:
            detail = f"`{row.prop}` in {row.steps} steps" if row.status == "CAUGHT" else row.reason
            out.append(f"| `{row.variant}` | **{row.status}** | {_cell(detail)} |")
    if mr.follow_ups:
        out += ["", "### Later fixes against post", "", "```", *follow_up_lines(mr, ""), "```"]
    for vr in mr.variants:
        for v in vr.result.violations:
            art = vr.artifacts.get(v.property, {})
            out += ["", f"### `{vr.variant}` violates `{v.property}`", ""]
            links = [f"[{kind}]({path})" for kind, path in sorted(art.items())]
            if "lanes" in art:
                out += [f"![lane diagram]({art['lanes']})", ""]
            if links:
                out += ["Files: " + ", ".join(links), ""]
            out += ["```", *fit_violation(render_violation(vr.result, v, v.trace_file)), "```"]
            links = [f"[{line}]({url})" for _, _, line, url in cited_lines(v)]
            if links:
                revs = sorted({f"`{path}` at {rev}" for rev, path, _, _ in cited_lines(v)})
                out += ["", f"Kernel lines cited ({'; '.join(revs)}): " + ", ".join(links)]
    out += ["", "Reproduce:", "", "```"]
    out += [reproduce_command(vr.result) for vr in mr.variants]
    out += ["```", ""]
    return out


def write_markdown(reports: list[ModelReport]) -> str:
    """The whole ``proof.md``."""
    ok = all(r.ok for r in reports)
    lines = ["# ctxcheck regression proof", "",
             "Every expectation met." if ok else "**Some expectations are not met.**", "",
             "| model | variant | verdict |", "|---|---|---|"]  # fmt: skip
    for mr in reports:
        for vr in mr.variants:
            lines.append(f"| `{mr.model.name}` | `{vr.variant}` | {_cell(verdict_line(vr))} |")
    lines.append("")
    for mr in reports:
        lines += model_section(mr)
    return "\n".join(lines).rstrip() + "\n"
