"""``index.html``: one self-contained page (inline CSS and SVG, no external assets).

Every string that comes from a model (names, docs, messages, trace text) goes
through :func:`html.escape`; the lane diagrams are our own SVG, inlined
without their XML declaration.
"""

from __future__ import annotations

import re
from html import escape

from ctxcheck.render.text import render_violation, reproduce_command
from ctxcheck.report.collect import ModelReport, VariantReport
from ctxcheck.report.text import cited_lines, follow_up_lines, lkmm_lines, verdict_line

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:21px;margin:38px 0 6px;padding-top:14px;
border-top:2px solid #d7dbe2}h3{font-size:16px;margin:22px 0 6px}
.lead{color:#4a5262;margin:0 0 18px}.ok{color:#176b2c}.bad{color:#a3141c;font-weight:600}
table{border-collapse:collapse;margin:8px 0 14px;background:#fff;font-size:13.5px}
th,td{border:1px solid #d7dbe2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600}
td.h{background:#e5f4e8;color:#176b2c;text-align:center}
td.v{background:#fbe3e4;color:#a3141c;text-align:center;font-weight:600}
td.i{background:#fff4d6;text-align:center}
th.rot{font-size:12px;max-width:90px;word-break:break-word}
pre{background:#fff;border:1px solid #d7dbe2;padding:10px 12px;overflow-x:auto;
font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace}
.diagram{background:#fff;border:1px solid #d7dbe2;padding:8px;overflow-x:auto;margin:8px 0}
.diagram svg{max-width:100%;height:auto}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12.5px;
font-weight:600}.b-ok{background:#e5f4e8;color:#176b2c}.b-bad{background:#fbe3e4;color:#a3141c}
.b-eq{background:#e8ecf8;color:#2d4a9a}
@media print{body{background:#fff}main{max-width:none;padding:0}.diagram{break-inside:avoid}
h2{break-before:page}}
"""

_XML_DECL = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*")


def _inline_svg(svg: str) -> str:
    return _XML_DECL.sub("", svg)


def _matrix(mr: ModelReport) -> str:
    props = mr.model.property_names()
    head = "".join(f'<th class="rot">{escape(p)}</th>' for p in props)
    rows = []
    for vr in mr.variants:
        cells = []
        for p in props:
            v = vr.violation(p)
            if v is not None:
                cells.append(f'<td class="v" title="{escape(v.message)}">&#10007; {v.steps}</td>')
            elif vr.result.verdict == "holds":
                cells.append('<td class="h">&#10003;</td>')
            else:
                cells.append('<td class="i">?</td>')
        mark = "ok" if vr.judgement.met else "bad"
        rows.append(
            f'<tr><th><a href="#{escape(_anchor(mr, vr))}">{escape(vr.variant)}</a></th>'
            f'{"".join(cells)}<td class="{mark}">{escape(vr.judgement.text)}</td></tr>'
        )
    return (
        f"<h3>{escape(mr.model.name)}</h3><table><tr><th>variant</th>{head}"
        f"<th>expectation</th></tr>{''.join(rows)}</table>"
    )


def _anchor(mr: ModelReport, vr: VariantReport) -> str:
    return f"{mr.model.name}--{vr.variant}"


def _mutants(mr: ModelReport) -> str:
    if not mr.mutants:
        return ""
    rows = []
    for row in mr.mutants:
        cls = {"CAUGHT": "b-ok", "EQUIVALENT": "b-eq"}.get(row.status, "b-bad")
        detail = f"{row.prop} in {row.steps} steps" if row.status == "CAUGHT" else row.reason
        rows.append(
            f'<tr><td>{escape(row.variant)}</td><td><span class="badge {cls}">'
            f"{escape(row.status)}</span></td><td>{escape(detail)}</td></tr>"
        )
    return (
        "<h3>Mutation check: each fix of the patch removed on its own</h3>"
        f"<table><tr><th>mutant</th><th>result</th><th>detail</th></tr>{''.join(rows)}</table>"
    )


def _variant(mr: ModelReport, vr: VariantReport, svgs: dict[str, str]) -> str:
    parts = [f'<h3 id="{escape(_anchor(mr, vr))}">{escape(vr.variant)}: '
             f"{escape(verdict_line(vr))}</h3>"]  # fmt: skip
    if vr.doc:
        parts.append(f"<p>{escape(vr.doc)}</p>")
    cls = "ok" if vr.judgement.met else "bad"
    parts.append(f'<p class="{cls}">Expectation: {escape(vr.judgement.text)}'
                 + (f" &mdash; {escape(vr.judgement.reason)}" if vr.judgement.reason else "")
                 + "</p>")  # fmt: skip
    for v in vr.result.violations:
        art = vr.artifacts.get(v.property, {})
        svg = svgs.get(art.get("lanes", ""))
        if svg:
            parts.append(f'<div class="diagram">{_inline_svg(svg)}</div>')
        parts.append(f"<pre>{escape(render_violation(vr.result, v, v.trace_file))}</pre>")
        links = [
            f'<a href="{escape(url)}">{escape(path)}:{line}</a> ({escape(rev)})'
            for rev, path, line, url in cited_lines(v)
        ]
        if links:
            parts.append("<p>Kernel lines cited: " + ", ".join(links) + "</p>")
    parts.append(f"<pre>$ {escape(reproduce_command(vr.result))}</pre>")
    return "\n".join(parts)


def write_html(reports: list[ModelReport], svgs: dict[str, str]) -> str:
    """The whole page; ``svgs`` maps artifact paths to lane-diagram SVG text."""
    ok = all(r.ok for r in reports)
    status = ('<span class="ok">Every expectation met.</span>' if ok
              else '<span class="bad">Some expectations are not met.</span>')  # fmt: skip
    body = [
        "<h1>ctxcheck regression proof</h1>",
        f'<p class="lead">{status} &#10003; holds for every schedule within the bounds; '
        "&#10007; n: violated, minimal counterexample of n steps.</p>",
        "<h2>Verdict matrix</h2>",
    ]
    body += [_matrix(mr) for mr in reports]
    for mr in reports:
        m = mr.model
        body.append(f"<h2>{escape(m.name)}</h2>")
        if m.doc.strip():
            body.append(f"<p>{escape(m.doc.strip().splitlines()[0])}</p>")
        if m.follows:
            body.append(f"<p>Code compared: {escape(m.follows)}</p>")
        body.append(_mutants(mr))
        if mr.follow_ups:
            body.append("<h3>Later fixes against post</h3>")
            body.append(f"<pre>{escape(chr(10).join(follow_up_lines(mr, '')))}</pre>")
        body += [_variant(mr, vr, svgs) for vr in mr.variants]
        if mr.lkmm:
            body.append("<h3>Under the Linux kernel memory model</h3>")
            body.append(f"<pre>{escape(chr(10).join(lkmm_lines(mr)[1:]))}</pre>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>ctxcheck regression proof</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
