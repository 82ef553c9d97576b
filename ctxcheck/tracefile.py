"""Trace files: a counterexample as versioned JSON that ``ctxcheck replay`` re-runs.

The file pins what is needed to re-execute the schedule (model target,
variant, parameters, step bound) and records what was seen (the events), the
ctxcheck version and a hash of the model's source, so that a replay can say
precisely why it no longer reproduces. It is plain JSON: no pickle, no eval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctxcheck.errors import CtxcheckError, NondeterministicModel, TraceFileError
from ctxcheck.result import Result, Violation, decode_schedule, encode_schedule
from ctxcheck.runtime import Event

FORMAT = "ctxcheck-trace"
VERSION = 1

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format": str, "version": int, "ctxcheck": str, "model": str, "variant": str,
    "params": dict, "max_steps": int, "explorer": str, "property": str, "message": str,
    "schedule": str, "steps": int, "preemptions": int, "events": list, "model_sha256": str,
}  # fmt: skip


@dataclass
class TraceFile:
    """A loaded trace file."""

    path: str
    data: dict[str, Any]

    @property
    def schedule(self) -> list[tuple[int, int]]:
        """The schedule to replay."""
        return decode_schedule(self.data["schedule"])

    @property
    def events(self) -> list[Event]:
        """The recorded events."""
        return [Event.from_json(e) for e in self.data["events"]]


def to_json(result: Result, v: Violation, model_sha256: str) -> dict[str, Any]:
    """The trace-file object for one violation of a result."""
    from ctxcheck import __version__

    return {
        "format": FORMAT,
        "version": VERSION,
        "ctxcheck": __version__,
        "model": result.model,
        "model_sha256": model_sha256,
        "variant": result.variant,
        "params": dict(result.params),
        "max_steps": result.bounds.max_steps,
        "explorer": result.explorer,
        "property": v.property,
        "message": v.message,
        "schedule": encode_schedule(v.schedule),
        "steps": v.steps,
        "preemptions": v.preemptions,
        "events": [e.to_json() for e in v.events],
    }


def save(path: str | Path, result: Result, v: Violation, model_sha256: str) -> None:
    """Write one violation's trace file."""
    Path(path).write_text(json.dumps(to_json(result, v, model_sha256), indent=1) + "\n")


def load(path: str | Path) -> TraceFile:
    """Read and validate a trace file; every problem is a :class:`TraceFileError`."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise TraceFileError(f"cannot read trace file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceFileError(
            f"trace file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); was it truncated?"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceFileError(f"{path} is not a ctxcheck trace file (no \"format\": \"{FORMAT}\")")
    version = data.get("version")
    if version != VERSION:
        raise TraceFileError(
            f"trace file {path} has format version {version!r}; this ctxcheck reads version "
            f"{VERSION}. Re-create it with `ctxcheck check --trace-out`."
        )
    for key, kind in _REQUIRED.items():
        if key not in data:
            raise TraceFileError(f"trace file {path} lacks the field {key!r}")
        if not isinstance(data[key], kind) or isinstance(data[key], bool) and kind is int:
            raise TraceFileError(f"trace file {path}: field {key!r} has the wrong type")
    try:
        schedule = decode_schedule(data["schedule"])
    except ValueError:
        raise TraceFileError(f"trace file {path}: the schedule is not readable") from None
    if len(schedule) != data["steps"]:
        raise TraceFileError(
            f"trace file {path}: the schedule has {len(schedule)} steps but the file says "
            f"{data['steps']}; it was edited or damaged"
        )
    try:
        for e in data["events"]:
            Event.from_json(e)
    except (KeyError, TypeError, ValueError) as exc:
        raise TraceFileError(f"trace file {path}: a recorded event is malformed ({exc})") from None
    return TraceFile(str(path), data)


def replay(trace: TraceFile) -> tuple[Result, list[str]]:
    """Re-execute a trace; return the result and notes (e.g. a changed model).

    Raises :class:`TraceFileError` when the schedule no longer fits the model
    or no longer ends in the recorded violation.
    """
    from ctxcheck.counterexample import record
    from ctxcheck.explorers.base import Budget, Stats
    from ctxcheck.loader import load_model, model_hash

    data = trace.data
    notes: list[str] = []
    try:
        model = load_model(data["model"])
        config = model.config(data["variant"], data["params"])
    except CtxcheckError as exc:
        raise TraceFileError(f"trace file {trace.path}: {exc}") from None
    current = model_hash(model)
    if current and data["model_sha256"] and current != data["model_sha256"]:
        notes.append(f"note: {model.source} changed since the trace was recorded")
    budget = Budget(max_steps=data["max_steps"])
    try:
        ex = record(model, config, budget, trace.schedule)
    except NondeterministicModel as exc:
        raise TraceFileError(f"trace file {trace.path} no longer replays: {exc}") from None
    recorded = data["events"]
    for i, (old, new) in enumerate(zip(recorded, ex.events, strict=False)):
        if old.get("thread") != new.thread or old.get("op") != new.op:
            raise TraceFileError(
                f"trace file {trace.path} diverges from the model at step {i + 1}: recorded "
                f"{old.get('thread')} {old.get('op')}, now {new.thread} {new.op}"
            )
    found = ex.violation
    if found is None or found.prop != data["property"]:
        now = "no violation" if found is None else f"a violation of {found.prop}"
        raise TraceFileError(
            f"trace file {trace.path} no longer reproduces: recorded a violation of "
            f"{data['property']} after {data['steps']} steps, the model now gives {now}"
        )
    v = Violation(found.prop, found.message, len(ex.schedule),
                  sum(1 for e in ex.events if e.preemption), list(ex.schedule), ex.events,
                  trace.path)  # fmt: skip
    result = Result(model.name, config.variant, dict(config.params), "replay", False, budget,
                    Stats(executions=1, steps=ex.steps), [v])  # fmt: skip
    return result, notes
