"""Renderers: text (80 columns, golden file), lane SVG, Graphviz DOT/SVG/PNG, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import graphviz
import pytest

import ctxcheck
from ctxcheck import (
    Cell,
    Config,
    Kernel,
    Machine,
    Model,
    Struct,
    TaskStruct,
    field,
    list_head,
    spinlock,
)
from ctxcheck.counterexample import record
from ctxcheck.explorers.base import Stats
from ctxcheck.kernel import Steps
from ctxcheck.options import Bounds
from ctxcheck.render import formats
from ctxcheck.render.lanes import (
    BAD_FILL,
    BAD_STROKE,
    DECIDED_FILL,
    DECIDED_STROKE,
    IN_IRQ_FILL,
    IRQ_OFF_FILL,
    PREEMPT_FILL,
    SWITCH_FILL,
)
from ctxcheck.render.text import WIDTH, command_lines, render_violation
from ctxcheck.result import Result
from ctxcheck.result import Violation as Counterexample
from ctxcheck.tracefile import TraceFile, to_json

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "lost_update_racy.txt"
SVG = "{http://www.w3.org/2000/svg}"


# -- a model with everything a picture must show ---------------------------------------
class perf_counter_with_a_long_name(Struct):
    _label = "counter"
    active: Cell = field(1)
    list_entry = list_head()


class ctx_struct(Struct):
    _label = "ctx"
    lock = spinlock()
    counter_list = list_head()


@dataclass
class State:
    ctx: ctx_struct
    counter: perf_counter_with_a_long_name


def list_del_counter(k: Kernel, ctx: ctx_struct, c: perf_counter_with_a_long_name) -> Steps:
    yield k.list_del(c.list_entry)


def perf_counter_remove_from_context(
    k: Kernel, ctx: ctx_struct, c: perf_counter_with_a_long_name
) -> Steps:
    flags = yield from k.spin_lock_irqsave(ctx.lock)
    active = yield k.load(c.active)
    yield from k.spin_unlock_irqrestore(ctx.lock, flags)
    if active:
        yield from list_del_counter(k, ctx, c)
        yield k.store(c.active, 0)


def schedule_irq(k: Kernel, cpu: ctxcheck.CPU, a: TaskStruct, b: TaskStruct) -> Steps:
    yield k.irq_enter(preempt=True)
    yield k.context_switch(cpu, b)
    yield k.context_switch(cpu, a)
    yield k.irq_exit()


def ipi_handler(k: Kernel, ctx: ctx_struct, c: perf_counter_with_a_long_name) -> Steps:
    yield k.irq_enter()
    active = yield k.load(c.active)
    if active:
        yield from list_del_counter(k, ctx, c)
        yield k.store(c.active, 0)
    yield k.irq_exit()


def setup(m: Machine, cfg: Config) -> State:
    ctx = m.new(ctx_struct, name="ctx")
    c = m.new(perf_counter_with_a_long_name, name="counter")
    c.list_entry.next = c.list_entry.prev = ctx.counter_list
    ctx.counter_list.next = ctx.counter_list.prev = c.list_entry
    cpu0, cpu1 = m.add_cpus(2)
    a, b = m.new(TaskStruct, name="task_a"), m.new(TaskStruct, name="task_b")
    cpu0.curr.value = a
    m.spawn("perf_counter_remove_task", perf_counter_remove_from_context, ctx, c, cpu=cpu0, task=a)
    m.spawn("schedule", schedule_irq, cpu0, a, b, cpu=cpu0, irq=True)
    m.spawn("ipi:__perf_counter_remove_from_context@cpu1", ipi_handler, ctx, c, cpu=cpu1, irq=True)
    return State(ctx, c)


MODEL = Model(name="render.double_del", setup=setup)
#: task: irqsave, lock, load, unlock, irqrestore; schedule: in, switch, switch, out;
#: task: list_del; ipi: in, load, list_del (the double list_del)
SCHEDULE = [(0, 0)] * 5 + [(1, 0)] * 4 + [(0, 0)] + [(2, 0)] * 3


@pytest.fixture(scope="module")
def trace() -> TraceFile:
    """The double list_del with a context switch in the middle, as a trace file."""
    config = MODEL.config(None, {})
    budget = Bounds(max_steps=100)
    ex = record(MODEL, config, budget.max_steps, SCHEDULE)
    assert ex.violation is not None and ex.violation.prop == "list_integrity"
    v = Counterexample(
        ex.violation.prop,
        ex.violation.message,
        len(ex.schedule),
        sum(e.preemption for e in ex.events),
        list(ex.schedule),
        ex.events,
        minimal="reduced",
        minimal_note="a hand-picked schedule",
    )
    result = Result(MODEL.name, config.variant, {}, "naive", False, budget, Stats(), [v])
    return TraceFile("double_del.json", to_json(result, v, ""))


# -- text --------------------------------------------------------------------------
def _lines_fit(text: str) -> None:
    for line in text.splitlines():
        assert len(line) <= WIDTH, line


def test_text_fits_80_columns_and_says_everything(trace: TraceFile) -> None:
    text = formats.render(trace, "txt")
    assert isinstance(text, str)
    _lines_fit(text)
    assert "render.double_del [default] violates list_integrity in 13 steps" in text
    assert "list_del_counter:" in text and "context_switch(cpu0 -> task_b)" in text
    assert "irq in" in text and "irq off" in text  # long names: stacked layout
    assert "=> after step 13: list_integrity: list_del of counter.list_entry" in text
    assert "ctxcheck replay double_del.json" in text
    assert "minimal: not proven (a hand-picked schedule)" in text
    numbered = [line[:3].strip() for line in text.splitlines() if line[:3].strip().isdigit()]
    assert numbered == [str(i) for i in range(1, 14)]


def test_long_commands_wrap_with_continuations() -> None:
    argv = [
        "ctxcheck",
        "check",
        "perf_counter.ctx_create",
        "--variant",
        "mutant-no-cmpxchg",
        "--param",
        "openers=3",
        "--param",
        "cpus=2",
        "--param",
        "switches=1",
        "--explorer",
        "dpor",
        "--max-steps",
        "500",
    ]
    lines = command_lines(argv)
    assert len(lines) > 1 and all(len(line) <= WIDTH for line in lines)
    assert all(line.endswith(" \\") for line in lines[:-1])
    assert " ".join(line.rstrip("\\").strip() for line in lines).split() == argv


def test_golden_text_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lost update's text trace, byte for byte (CTXCHECK_UPDATE_GOLDEN=1 rewrites it)."""
    monkeypatch.chdir(REPO)
    result = ctxcheck.check("examples.lost_update", variant="racy", explorer="naive")
    text = render_violation(result, result.violations[0]) + "\n"
    _lines_fit(text)
    if os.environ.get("CTXCHECK_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


# -- lanes -------------------------------------------------------------------------
def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_lanes_svg_is_xml_with_the_violation_in_red(trace: TraceFile) -> None:
    svg = formats.render(trace, "lanes")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    bad = [("".join(t.itertext())) for t in root.iter(f"{SVG}text") if t.get("class") == "bad"]
    assert any("list_del(counter.list_entry)" in b for b in bad)
    assert any("list_integrity" in b and "already deleted" in b for b in bad)
    texts = _texts(root)
    assert any(t.startswith("perf_counter_remove_task") for t in texts)
    assert {"cpu0", "cpu1"} <= set(texts)
    # an invariant fails at its own step: nothing was merely noticed, nothing decided
    assert "violating step" in texts and not any("noticed" in t for t in texts)
    assert _box(root, 13).get("stroke") == BAD_STROKE


def test_lanes_shade_irqs_switches_and_join_conflicts(trace: TraceFile) -> None:
    svg = formats.render(trace, "lanes")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert {IRQ_OFF_FILL, IN_IRQ_FILL, SWITCH_FILL, PREEMPT_FILL} <= fills
    arrows = [p for p in root.iter(f"{SVG}path") if (p.get("marker-end") or "").startswith("url")]
    titles = ["".join(p.itertext()) for p in arrows]
    assert any("step 13 overwrites step 10" in t and "counter.list_entry" in t for t in titles)
    # a picture with no outside assets: no links, no images, no scripts
    assert "href" not in svg and "<image" not in svg and "<script" not in svg


def _box(root: ET.Element, step: int) -> ET.Element:
    """The box of step ``step`` (or of the folded run it starts)."""
    found = [r for r in root.iter(f"{SVG}rect") if r.get("id") == f"step-{step}"]
    assert len(found) == 1, step
    return found[0]


class spin_flags(Struct):
    flag: Cell = field(0)


def spin_on_flag(k: Kernel, d: spin_flags) -> Steps:
    while not (yield k.load(d.flag)):
        pass


def set_flag(k: Kernel, d: spin_flags) -> Steps:
    yield k.store(d.flag, 1)


def spin_setup(m: Machine, cfg: Config) -> spin_flags:
    d = m.new(spin_flags, name="d")
    m.spawn("waiter", spin_on_flag, d)
    m.spawn("setter", set_flag, d)
    return d


def test_lanes_fold_a_spin_into_one_box_and_the_text_traces_count() -> None:
    """A spin of 40 loads is one box saying ``x 40``, as in the text trace, not 40 boxes."""
    model = Model(name="render.spin", setup=spin_setup, max_steps=40)
    result = ctxcheck.check(model, explorer="dpor")
    v = result.assert_violates("termination")
    spins = [e for e in v.events if e.text == "load(d.flag) = 0"]
    assert len(spins) == 40
    fold = "\u00d7 40 (steps 1-40, the same step)"
    assert fold in render_violation(result, v)
    svg = formats.render(TraceFile("spin.json", to_json(result, v, "")), "lanes")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    texts = _texts(root)
    assert fold in texts
    assert texts.count("load(d.flag) = 0") == 1
    boxes = [r for r in root.iter(f"{SVG}rect") if (r.get("id") or "").startswith("step-")]
    assert [b.get("id") for b in boxes] == ["step-1"]
    assert boxes[0].get("fill") == BAD_FILL  # the run holds the step where it was noticed


class put_obj(Struct):
    ref: Cell = field(2)
    data: Cell = field(0)


def buggy_put(k: Kernel, o: put_obj, me: int) -> Steps:
    """``o->data = me; atomic_dec(&o->ref); if (!atomic_read(&o->ref)) kfree(o);``"""
    yield k.store(o.data, me)
    yield k.atomic_dec(o.ref)
    if (yield k.atomic_read(o.ref)) == 0:
        yield k.kfree(o)


def put_setup(m: Machine, cfg: Config) -> put_obj:
    o = m.alloc(put_obj, name="obj")
    for i in (1, 2):
        m.spawn(f"user{i}", buggy_put, o, i)
    return o


def test_lanes_print_two_arrows_leaving_one_box_as_one_label() -> None:
    """The first store is overwritten and its object freed by the other thread: two
    arrows leave its box on one side, and their labels must not print on each other."""
    result = ctxcheck.check(Model(name="render.put", setup=put_setup))
    v = result.assert_violates("memory_safety")
    svg = formats.render(TraceFile("put.json", to_json(result, v, "")), "lanes")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    spots = [
        (t.get("x"), t.get("y")) for t in root.iter(f"{SVG}text") if t.get("class") == "note halo"
    ]
    assert len(spots) == len(set(spots)), "two labels at one place"
    assert "ww obj.data; fr obj" in _texts(root)


def test_lanes_mark_the_step_that_decided_the_torn_read(seqcount_buggy: Result) -> None:
    """The reader's retry load that accepted the torn pair, apart from the last step."""
    v = seqcount_buggy.assert_violates("no_torn_read")
    assert v.decided_step is not None and v.decided_step < v.steps
    accepting = v.events[v.decided_step - 1]
    assert accepting.function == "read_seqcount_retry" and accepting.thread == "reader0"
    trace = TraceFile("torn.json", to_json(seqcount_buggy, v, ""))
    svg = formats.render(trace, "lanes")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    decided = _box(root, v.decided_step)
    assert (decided.get("fill"), decided.get("stroke")) == (DECIDED_FILL, DECIDED_STROKE)
    last = _box(root, v.steps)
    assert (last.get("fill"), last.get("stroke")) == (BAD_FILL, BAD_STROKE)
    others = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == DECIDED_STROKE]
    assert others == [decided]
    texts = _texts(root)
    assert "deciding step: after it every continuation violates the property" in texts
    assert "violating step: only where it was noticed" in texts
    assert any(t.startswith(f"Step {v.decided_step} decided it (every continuation") for t in texts)
    assert texts.count("decided") == 1  # the tag beside the step number


def test_lanes_without_a_deciding_step_say_the_mark_is_only_where_it_was_noticed(
    seqcount_buggy: Result,
) -> None:
    v = seqcount_buggy.assert_violates("no_torn_read")
    data = to_json(seqcount_buggy, v, "")
    data["decided_step"], data["decided_note"] = None, "every schedule violates no_torn_read"
    svg = formats.render(TraceFile("torn.json", data), "lanes")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    texts = _texts(root)
    assert f"After step {v.steps} is only where it was noticed" in " ".join(texts)
    assert "violating step: only where it was noticed (no deciding step)" in texts
    assert not [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == DECIDED_STROKE]


# -- graphviz ----------------------------------------------------------------------
def test_dot_is_accepted_by_graphviz(trace: TraceFile) -> None:
    dot = formats.render(trace, "dot")
    assert isinstance(dot, str) and dot.startswith("digraph")
    out = graphviz.Source(dot).pipe(format="svg")
    assert out.lstrip().startswith(b"<?xml") or b"<svg" in out


def test_graph_svg_and_png(trace: TraceFile) -> None:
    svg = formats.render(trace, "svg")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    assert any("list_del(counter.list_entry)" in t for t in _texts(root))
    png = formats.render(trace, "png")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")


# -- the CLI -----------------------------------------------------------------------
def test_render_command_writes_every_format(tmp_path: Path, trace: TraceFile) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(trace.data))
    outputs = {fmt: tmp_path / f"out.{fmt}" for fmt in ("dot", "svg", "png", "lanes", "txt")}
    procs = {
        fmt: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ctxcheck.cli",
                "render",
                str(path),
                "--format",
                fmt,
                "-o",
                str(out),
            ],
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            text=True,
        )
        for fmt, out in outputs.items()
    }
    stdout = subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", "render", str(path), "--format", "txt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    binary = subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", "render", str(path), "--format", "png"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    for fmt, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (fmt, err)
    assert outputs["png"].read_bytes().startswith(b"\x89PNG")
    ET.fromstring(outputs["lanes"].read_text())
    ET.fromstring(outputs["svg"].read_text())
    # the file is what stdout shows, its final newline included
    assert outputs["txt"].read_text() == stdout.stdout and stdout.stdout.endswith("\n")
    assert "violates list_integrity in 13 steps" in stdout.stdout
    assert binary.returncode == 2 and "give an output file with -o" in binary.stderr


def test_unknown_format_is_a_usage_error(trace: TraceFile) -> None:
    with pytest.raises(ctxcheck.UsageError, match="unknown format 'gif'"):
        formats.render(trace, "gif")


def test_checking_loads_no_drawing_library() -> None:
    code = (
        "import sys, ctxcheck\n"
        "r = ctxcheck.check('examples.lost_update', variant='racy')\n"
        "from ctxcheck.render.text import render_violation\n"
        "render_violation(r, r.violations[0])\n"
        "print(sorted(m for m in ('networkx', 'graphviz', 'hypothesis') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
