"""The one writer of a counterexample's files: trace JSON, text trace, lane diagram, graph.

``check --trace-out``, ``prove`` and the pytest plugin's
``--ctxcheck-artifacts`` all write through :func:`write_counterexample`, so
a trace file says the same thing whoever wrote it: what a replay loads
(:func:`ctxcheck.loader.command_target`, the one rule for naming a model on
a command line), the model's declared name, source and digest. The
overwrite rule is the caller's to choose and this module's to keep: with
``force=False`` every file is checked before the first is written, and an
existing one stops the whole write (:mod:`ctxcheck.output`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ctxcheck import tracefile
from ctxcheck.errors import CtxcheckError
from ctxcheck.loader import command_target, model_hash
from ctxcheck.model import Model
from ctxcheck.output import check_output_file, write_output
from ctxcheck.result import Result, Violation

#: the files besides the trace JSON, and the suffix each adds to the stem
SUFFIXES = {"text": ".txt", "lanes": ".lanes.svg", "graph": ".png"}


@dataclass(frozen=True)
class Plan:
    """Where one counterexample's files go: the JSON, and the others by kind."""

    json: Path
    others: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def at(cls, json: Path, kinds: Sequence[str] = (), stem: Path | None = None) -> Plan:
        """The JSON at ``json``; each other kind at ``stem`` (default: ``json`` less .json)."""
        base = str(stem if stem is not None else json.with_suffix(""))
        return cls(json, {kind: Path(base + SUFFIXES[kind]) for kind in kinds})

    def paths(self) -> list[Path]:
        """Every file this plan writes."""
        return [self.json, *self.others.values()]


@dataclass
class Written:
    """What a write produced: the files by kind, notes on what could not be drawn."""

    paths: dict[str, Path]
    notes: list[str]
    #: the lane diagram's SVG text, for reports that inline it
    lanes_svg: str | None = None


def trace_result(result: Result, model: Model) -> Result:
    """``result`` as a trace file records it: what replay loads, and what the model is."""
    return replace(
        result,
        model=command_target(model),
        model_name=model.name,
        model_source=model.source,
        model_sha256=model_hash(model),
    )


def check_free(paths: Sequence[Path], option: str) -> None:
    """Refuse (a usage error) if any of ``paths`` exists or cannot be written."""
    for path in paths:
        check_output_file(str(path), option)


def write_counterexample(
    result: Result, v: Violation, model: Model, plan: Plan, force: bool, option: str = "output"
) -> Written:
    """Write ``v``'s files as ``plan`` says; ``v.trace_file`` becomes the JSON's path.

    Without ``force`` nothing is written if any file exists. A picture that
    cannot be drawn (no Graphviz, ``dot`` failing) is a note, not an error:
    the trace JSON is what matters.
    """
    if not force:
        check_free(plan.paths(), option)
    saved = trace_result(result, model)
    text = tracefile.dumps(saved, v)
    write_output(plan.json, text, "trace file")
    v.trace_file = str(plan.json)
    written = Written({"json": plan.json}, [])
    for kind, path in plan.others.items():
        _write_other(kind, path, result, v, saved, text, plan.json, written)
    return written


def _write_other(
    kind: str,
    path: Path,
    result: Result,
    v: Violation,
    saved: Result,
    text: str,
    json_path: Path,
    written: Written,
) -> None:
    from ctxcheck.render import formats
    from ctxcheck.render.text import render_violation

    try:
        if kind == "text":
            data: str | bytes = render_violation(result, v, str(json_path), saved.model) + "\n"
        else:
            trace = tracefile.TraceFile(str(json_path), tracefile.parse(json_path, text))
            data = formats.render(trace, "lanes" if kind == "lanes" else "png")
    except (CtxcheckError, ImportError) as exc:
        written.notes.append(f"{json_path.with_suffix('')}: no {kind} ({exc})")
        return
    write_output(path, data, {"text": "text trace", "lanes": "lane diagram"}.get(kind, "graph"))
    written.paths[kind] = path
    if kind == "lanes" and isinstance(data, str):
        written.lanes_svg = data
