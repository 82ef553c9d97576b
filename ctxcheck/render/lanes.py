"""The race diagram: one lane per thread, grouped by CPU, time flowing down.

Drawn by hand as a standalone SVG (no fonts, images or scripts from outside)
so that it opens in any browser and pastes into any report:

* one column per thread (task or interrupt handler), under its CPU;
* one row per step, the box in the lane of the thread that took it, labelled
  with the step number, kernel function and source line, and the operation
  with its value;
* arrows between the conflicting accesses of different threads (reads-from,
  write order, from-read, lock hand-over), from :func:`ctxcheck.export.to_networkx`;
* shading: IRQs off (amber) and inside an interrupt handler (violet) in the
  thread's lane; a grey band across the picture where a thread was preempted,
  a blue one where a CPU switched tasks;
* the violating step in red, with the property's message under it; for a
  property judged at the end of the execution (a final property, a
  deadlock) the step that decided it in teal, the red one being only where
  it was noticed, and the caption says which (or that no deciding step was
  computed, so the red step is only where it was noticed);
* runs of identical steps (a spin loop's loads) folded into one box and a
  count (``\\u00d7 37``), by the rule of the text trace (:mod:`ctxcheck.render.fold`).

Every text comes from the trace file, so the document passes through
:func:`ctxcheck.render.safe.printable`: a control character in a thread
name cannot make the SVG ill-formed XML.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from ctxcheck.render.fold import fold_runs, repeat_label
from ctxcheck.render.safe import printable
from ctxcheck.render.text import decided_text, shown_decided

if TYPE_CHECKING:
    import networkx as nx  # type: ignore[import-untyped]

    from ctxcheck.result import Violation
    from ctxcheck.runtime import Event
    from ctxcheck.tracefile import TraceFile

LANE_W = 280
LANE_GAP = 24
ROW_H = 56
LEFT = 92
TOP = 112
CHAR_W = 6.6  # width of one character of the 11px monospace font
BOX_PAD = 8
#: room right of each box for the rotated label of a shaded region
GUTTER = 16

#: edge kind -> (colour, what it means)
ARROWS = {
    "rf": ("#1c64d8", "reads the value written by"),
    "ww": ("#d9480f", "overwrites"),
    "fr": ("#b8860b", "overwrites what was read by"),
    "lock": ("#2b8a3e", "takes the lock released by"),
    "sync": ("#6c757d", "waits for"),
}
IRQ_OFF_FILL = "#fff0b3"
IN_IRQ_FILL = "#eadcff"
PREEMPT_FILL = "#e9ecef"
SWITCH_FILL = "#d0ebff"
BAD_FILL = "#ffe3e3"
BAD_STROKE = "#d00000"
DECIDED_FILL = "#e3fafc"
DECIDED_STROKE = "#0b7285"

_STYLE = """
text { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 11px; }
.title { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 15px;
         font-weight: bold; }
.sub { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 12px; fill: #444; }
.head { font-weight: bold; font-size: 12px; }
.cpu { font-weight: bold; font-size: 12px; fill: #333; }
.func { fill: #555; font-size: 10px; }
.step { fill: #888; font-size: 11px; }
.note { font-size: 10px; fill: #555; }
.bad { fill: #d00000; font-weight: bold; }
.decided { fill: #0b7285; font-weight: bold; }
.halo { paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }
"""


@dataclass(frozen=True)
class Lane:
    """A thread's column."""

    tid: int
    thread: str
    cpu: str | None
    irq: bool
    index: int

    @property
    def x(self) -> float:
        """Left edge of the lane."""
        return LEFT + self.index * (LANE_W + LANE_GAP)


def lanes_of(events: list[Event]) -> list[Lane]:
    """Lanes ordered by CPU, then by first appearance; unbound threads last."""
    first: dict[int, Event] = {}
    irq: dict[int, bool] = {}
    for e in events:
        first.setdefault(e.tid, e)
        irq[e.tid] = irq.get(e.tid, False) or e.in_irq
    order = sorted(first.values(), key=lambda e: (e.cpu is None, e.cpu or "", e.step))
    return [Lane(e.tid, e.thread, e.cpu, irq[e.tid], i) for i, e in enumerate(order)]


def _row_y(step_index: int) -> float:
    return TOP + step_index * ROW_H


def _fit(text: str, width: float) -> str:
    chars = max(int(width / CHAR_W), 4)
    return text if len(text) <= chars else text[: chars - 1] + "\u2026"


class _Svg:
    """A growing list of SVG elements in three layers: shading, boxes, arrows."""

    def __init__(self) -> None:
        self.back: list[str] = []
        self.mid: list[str] = []
        self.front: list[str] = []

    def rect(
        self, layer: list[str], x: float, y: float, w: float, h: float, fill: str, extra: str = ""
    ) -> None:
        layer.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="{fill}" {extra}/>'
        )

    def text(
        self,
        layer: list[str],
        x: float,
        y: float,
        text: str,
        cls: str = "",
        anchor: str = "start",
        title: str | None = None,
    ) -> None:
        klass = f' class="{cls}"' if cls else ""
        tip = f"<title>{escape(title)}</title>" if title and title != text else ""
        layer.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>'
            f"{tip}{escape(text)}</text>"
        )


def render_lanes(trace: TraceFile) -> str:
    """The lane diagram of a loaded trace file, as SVG text."""
    from ctxcheck.export import to_networkx

    v = trace.violation()
    events = v.events
    decided = shown_decided(v)
    runs = fold_runs(events, decided)
    lanes = lanes_of(events)
    by_tid = {lane.tid: lane for lane in lanes}
    rows = _rows(runs)
    svg = _Svg()
    width = max(LEFT + max(len(lanes), 1) * (LANE_W + LANE_GAP), 640)
    _headers(svg, lanes, trace)
    _bands(svg, [e for e, _ in runs], rows, width)
    _shading(svg, events, by_tid, rows)
    _lifelines(svg, events, by_tid, rows)
    bad = events[-1].step if events else None
    for row, (e, n) in enumerate(runs):
        mark = _Mark(e.step <= (bad or 0) < e.step + n, e.step == decided)
        _box(svg, e, n, by_tid[e.tid], row, mark)
    graph = to_networkx(trace)
    _arrows(svg, graph, by_tid, rows)
    bottom = _row_y(len(runs)) + 8
    bottom = _violation(svg, v, decided, bottom, width)
    bottom = _legend(svg, bottom, width, _outcome_keys(v, decided))
    return _document(svg, width, bottom + 16)


def _rows(runs: list[tuple[Event, int]]) -> dict[int, int]:
    """The row of every step: a folded step is drawn in the row of its run."""
    return {first.step + i: row for row, (first, n) in enumerate(runs) for i in range(n)}


@dataclass(frozen=True)
class _Mark:
    """How a box is marked: the violating (noticed) step, the deciding step, or both."""

    bad: bool = False
    decided: bool = False


def _document(svg: _Svg, width: float, height: float) -> str:
    body = printable("\n".join(svg.back + svg.mid + svg.front))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}">\n'
        f"<style>{_STYLE}</style>\n"
        "<defs>\n" + "\n".join(_marker(k, c) for k, (c, _) in ARROWS.items()) + "\n</defs>\n"
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>\n'
        f"{body}\n</svg>\n"
    )


def _marker(kind: str, colour: str) -> str:
    return (
        f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
    )


def _headers(svg: _Svg, lanes: list[Lane], trace: TraceFile) -> None:
    d = trace.data
    params = ", ".join(f"{k}={v}" for k, v in d.get("params", {}).items())
    title = f"{d.get('model', '?')} [{d.get('variant', '?')}]" + (f" {params}" if params else "")
    svg.text(svg.front, 8, 24, title, "title")
    pre = d.get("preemptions", 0)
    sub = (
        f"{d.get('property', '?')} violated in {d.get('steps', '?')} steps, "
        f"{pre} preemption{'' if pre == 1 else 's'} ({d.get('minimal', 'reduced')})"
    )
    svg.text(svg.front, 8, 42, sub, "sub")
    for cpu, group in _cpu_groups(lanes):
        x0, x1 = group[0].x, group[-1].x + LANE_W
        svg.rect(svg.back, x0, 52, x1 - x0, 20, "#dee2e6", 'rx="4"')
        svg.text(svg.front, (x0 + x1) / 2, 66, cpu or "no CPU", "cpu", "middle")
    for lane in lanes:
        svg.rect(svg.mid, lane.x, 76, LANE_W, 28, "#f8f9fa", 'stroke="#adb5bd" rx="4"')
        kind = "interrupt handler" if lane.irq else "task"
        label = _fit(f"{lane.thread} ({kind})", LANE_W - 12)
        svg.text(svg.front, lane.x + LANE_W / 2, 94, label, "head", "middle", lane.thread)


def _cpu_groups(lanes: list[Lane]) -> list[tuple[str | None, list[Lane]]]:
    groups: list[tuple[str | None, list[Lane]]] = []
    for lane in lanes:
        if groups and groups[-1][0] == lane.cpu:
            groups[-1][1].append(lane)
        else:
            groups.append((lane.cpu, [lane]))
    return groups


def _bands(svg: _Svg, events: list[Event], rows: dict[int, int], width: float) -> None:
    """Full-width bands: a thread preempted (grey), a CPU switching tasks (blue)."""
    prev: Event | None = None
    for e in events:
        y = _row_y(rows[e.step])
        if e.op == "context_switch":
            svg.rect(svg.back, 4, y, width - 8, ROW_H, SWITCH_FILL)
            svg.text(
                svg.front,
                8,
                y + ROW_H - 8,
                f"switch {e.cpu or ''}".strip(),
                "note",
                title=f"context switch on {e.cpu}",
            )
        elif e.preemption and prev is not None:
            svg.rect(svg.back, 4, y, width - 8, ROW_H, PREEMPT_FILL)
            svg.text(
                svg.front,
                8,
                y + ROW_H - 8,
                "preemption",
                "note",
                title=f"{prev.thread} could have gone on; {e.thread} runs instead",
            )
        prev = e


def _shading(svg: _Svg, events: list[Event], lanes: dict[int, Lane], rows: dict[int, int]) -> None:
    """IRQs-off and in-interrupt regions of each thread, from first to last such step."""
    for tid, lane in lanes.items():
        mine = [e for e in events if e.tid == tid]
        for flag, fill, label in (
            ("in_irq", IN_IRQ_FILL, "in IRQ"),
            ("irqs_off", IRQ_OFF_FILL, "IRQs off"),
        ):
            for first, last in _runs(mine, flag):
                if flag == "irqs_off" and first.in_irq:
                    continue
                y0 = _row_y(rows[first.step]) + 1
                y1 = _row_y(rows[last.step]) + ROW_H - 1
                svg.rect(svg.back, lane.x + 2, y0, LANE_W - 4, y1 - y0, fill, 'rx="6"')
                gx, gy = lane.x + LANE_W - GUTTER / 2 + 3, (y0 + y1) / 2
                svg.mid.append(
                    f'<text x="{gx:.1f}" y="{gy:.1f}" text-anchor="middle" '
                    f'class="note" transform="rotate(-90 {gx:.1f} {gy:.1f})">'
                    f"{label}</text>"
                )


def _runs(events: list[Event], flag: str) -> list[tuple[Event, Event]]:
    """Maximal runs of consecutive steps of one thread with ``flag`` set."""
    runs: list[tuple[Event, Event]] = []
    start: Event | None = None
    last: Event | None = None
    for e in events:
        if getattr(e, flag):
            start = start or e
            last = e
        elif start is not None and last is not None:
            runs.append((start, last))
            start = None
    if start is not None and last is not None:
        runs.append((start, last))
    return runs


def _lifelines(
    svg: _Svg, events: list[Event], lanes: dict[int, Lane], rows: dict[int, int]
) -> None:
    for tid, lane in lanes.items():
        steps = [rows[e.step] for e in events if e.tid == tid]
        x = lane.x + LANE_W / 2
        y0, y1 = 104, _row_y(max(steps)) + ROW_H / 2
        svg.back.append(
            f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1:.1f}" '
            f'stroke="#ced4da" stroke-width="2" stroke-dasharray="4 4"/>'
        )


def _box(svg: _Svg, e: Event, n: int, lane: Lane, row: int, mark: _Mark) -> None:
    """One step's box (or a folded run's: its first step and the count)."""
    y = _row_y(row)
    x = lane.x + BOX_PAD
    w = LANE_W - BOX_PAD - GUTTER
    fill, stroke, sw = "#ffffff", "#495057", 1.0
    if mark.decided:
        fill, stroke, sw = DECIDED_FILL, DECIDED_STROKE, 2.5
    if mark.bad:  # a deciding step that is also the last keeps the deciding outline
        fill, stroke, sw = BAD_FILL, DECIDED_STROKE if mark.decided else BAD_STROKE, 2.5
    extra = f'id="step-{e.step}" stroke="{stroke}" stroke-width="{sw}" rx="5"'
    svg.rect(svg.mid, x, y + 4, w, ROW_H - 8, fill, extra)
    svg.text(svg.mid, 30, y + ROW_H / 2 + 4, str(e.step), "step", "end")
    if mark.decided:
        svg.text(svg.mid, 36, y + ROW_H / 2 + 4, "decided", "decided")
    title = f"{e.cite} ({e.file}:{e.line})" if e.cite is not None else f"{e.file}:{e.line}"
    svg.text(svg.mid, x + 6, y + 17, _fit(e.where(), w - 12), "func", title=title)
    lines = textwrap.wrap(e.text, max(int((w - 12) / CHAR_W), 8)) or [""]
    room = 1 if n > 1 else 2
    main, weak, note = e.text.partition("  [")
    if weak and room == 2:  # under lkmm: what the weak memory did gets its own line
        lines = [_fit(main, w - 12), _fit(note.rstrip("]"), w - 12)]
    elif len(lines) > room:
        lines = [*lines[: room - 1], _fit(" ".join(lines[room - 1 :]), w - 12)]
    cls = "bad" if mark.bad else ""
    for i, line in enumerate(lines):
        svg.text(svg.mid, x + 6, y + 31 + 12 * i, line, cls, title=e.text)
    if n > 1:
        svg.text(svg.mid, x + 6, y + 31 + 12 * len(lines), _fit(repeat_label(e, n), w - 12), cls)


def _anchor(lane: Lane, row: int, towards_right: bool) -> tuple[float, float]:
    x = lane.x + (LANE_W - GUTTER if towards_right else BOX_PAD)
    return x, _row_y(row) + ROW_H / 2


def _arrows(svg: _Svg, graph: nx.DiGraph, lanes: dict[int, Lane], rows: dict[int, int]) -> None:
    """Arrows joining conflicting steps of different threads, one per pair of rows.

    The steps of a folded run share its row: their arrows (a spin's loads
    all reading one write) are drawn once.
    """
    drawn: set[tuple[int, int, str]] = set()
    #: labels beside each source box, by (row, towards the right): one text each,
    #: so that two arrows leaving one box do not print their labels on each other
    labels: dict[tuple[int, bool], tuple[float, float, list[tuple[str, str]]]] = {}
    for src, dst, data in graph.edges(data=True):
        if data["kind"] == "po" or data["internal"]:
            continue
        if (rows[src], rows[dst], data["kind"]) in drawn:
            continue
        drawn.add((rows[src], rows[dst], data["kind"]))
        kind = data["kind"].split("+")[0]
        colour = ARROWS[kind][0]
        a, b = graph.nodes[src], graph.nodes[dst]
        la, lb = lanes[a["tid"]], lanes[b["tid"]]
        right = la.x < lb.x
        x0, y0 = _anchor(la, rows[src], right)
        x1, y1 = _anchor(lb, rows[dst], not right)
        bend = 40 if right else -40
        path = (
            f"M {x0:.1f} {y0:.1f} C {x0 + bend:.1f} {y0:.1f}, {x1 - bend:.1f} {y1:.1f}, "
            f"{x1:.1f} {y1:.1f}"
        )
        objs = [o for o in data["objects"] if not str(o).endswith((".exec", ".done"))]
        tip = f"step {dst} {ARROWS[kind][1]} step {src} ({', '.join(objs)})"
        svg.front.append(
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6" '
            f'marker-end="url(#arrow-{kind})"><title>{escape(tip)}</title></path>'
        )
        # beside the source box, towards the arrow: no other box shares that row
        label = f"{data['kind']} {objs[0]}" if objs else data["kind"]
        labels.setdefault((rows[src], right), (x0, y0, []))[2].append((label, colour))
    for (_row, right), (x0, y0, texts) in labels.items():
        _arrow_label(svg, x0 + (6 if right else -6), y0 - 6, right, texts)


def _arrow_label(svg: _Svg, x: float, y: float, right: bool, texts: list[tuple[str, str]]) -> None:
    """The labels of the arrows leaving one side of a box, in one text, each in its colour."""
    labels = list(dict.fromkeys(texts))  # two arrows of one kind and object: one label
    if len(labels) == 1:
        label, colour = labels[0]
        parts = [f'<tspan fill="{colour}">{escape(_fit(label, LANE_W))}</tspan>']
    elif len("; ".join(label for label, _ in labels)) * CHAR_W <= LANE_W:
        parts = [
            f'<tspan fill="{colour}">{escape(("; " if i else "") + label)}</tspan>'
            for i, (label, colour) in enumerate(labels)
        ]
    else:  # too long for the room: the first, then how many more
        (label, colour), more = labels[0], f" (+{len(labels) - 1})"
        parts = [f'<tspan fill="{colour}">{escape(_fit(label, LANE_W - 60) + more)}</tspan>']
    svg.front.append(
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{"start" if right else "end"}" '
        f'class="note halo">{"".join(parts)}</text>'
    )


def _violation(svg: _Svg, v: Violation, decided: int | None, y: float, width: float) -> float:
    """The caption: what was violated after which step, and which step decided it."""
    at = f"after step {v.events[-1].step}" if v.events else "before any step"
    chars = max(int((width - 40) / CHAR_W), 30)
    lines = textwrap.wrap(f"\u2717 {at}: {v.property}: {v.message}", chars)
    said = decided_text(v, decided, at)
    more = textwrap.wrap(said[0].upper() + said[1:], chars) if said else []
    h = 14 * (len(lines) + len(more)) + 12
    svg.rect(
        svg.mid, 8, y, width - 16, h, BAD_FILL, f'stroke="{BAD_STROKE}" stroke-width="1.5" rx="5"'
    )
    for i, line in enumerate(lines):
        svg.text(svg.front, 16, y + 18 + 14 * i, line, "bad")
    for i, line in enumerate(more, len(lines)):
        svg.text(svg.front, 16, y + 18 + 14 * i, line, "decided" if decided else "note")
    return y + h + 10


def _outcome_keys(v: Violation, decided: int | None) -> list[tuple[str, str]]:
    """The legend's swatches for the marked steps: what red (and teal) mean here."""
    if decided is not None:
        return [
            (DECIDED_FILL, "deciding step: after it every continuation violates the property"),
            (BAD_FILL, "violating step: only where it was noticed"),
        ]
    if v.decided_note:
        return [(BAD_FILL, "violating step: only where it was noticed (no deciding step)")]
    return [(BAD_FILL, "violating step")]


def _legend(svg: _Svg, y: float, width: float, outcome: list[tuple[str, str]]) -> float:
    """Arrow colours, shadings and the marked steps, wrapped to the width of the picture."""
    items: list[tuple[str, str, str]] = [
        ("arrow", kind, f"{kind}: {meaning}") for kind, (_, meaning) in ARROWS.items()
    ]
    items += [
        ("fill", fill, label)
        for fill, label in (
            (IRQ_OFF_FILL, "IRQs off"),
            (IN_IRQ_FILL, "in interrupt handler"),
            (PREEMPT_FILL, "preemption"),
            (SWITCH_FILL, "context switch"),
            *outcome,
        )
    ]
    x = 8.0
    for what, key, label in items:
        room = 34 + CHAR_W * 0.92 * len(label) + 16
        if x + room > width and x > 8:
            x, y = 8.0, y + 20
        if what == "arrow":
            colour = ARROWS[key][0]
            svg.front.append(
                f'<line x1="{x:.1f}" y1="{y + 8}" x2="{x + 26:.1f}" y2="{y + 8}" '
                f'stroke="{colour}" stroke-width="2" marker-end="url(#arrow-{key})"/>'
            )
        else:
            svg.rect(svg.front, x, y + 2, 26, 12, key, 'stroke="#adb5bd"')
        svg.text(svg.front, x + 32, y + 12, label, "note")
        x += room
    return y + 20
