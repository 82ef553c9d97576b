"""``ctxcheck replay``: re-execute a trace file's schedule on its model.

The format lives in :mod:`ctxcheck.tracefile`; this module is the other
half: it decides which model a trace may run on and walks the schedule step
by step, comparing each step with the recorded event, so that a trace that
no longer reproduces says why (the model changed, the schedule now diverges
at step N, the violation is gone).

What is loaded follows one rule: the trace's ``model`` field is only ever
looked up as a *name* among the models already on the model path; a model
file runs only when the user names it (``ctxcheck replay T --model FILE``),
and its SHA-256 is then compared with the one the trace recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctxcheck.errors import CtxcheckError, TraceFileError
from ctxcheck.explorers.base import Stats
from ctxcheck.loader import is_model_file, load_model, load_named_model, model_hash
from ctxcheck.options import Bounds
from ctxcheck.result import Result
from ctxcheck.tracefile import TraceFile

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctxcheck.model import Config, Model
    from ctxcheck.runtime import Event, Execution


def replay(
    trace: TraceFile, model_file: str | None = None, paths: Sequence[str] = ()
) -> tuple[Result, list[str]]:
    """Re-execute a trace; return the result and notes (e.g. a changed model).

    What is loaded follows one rule (:func:`_load_model`): the trace's
    ``model`` field may only *name* a model already on the model path; a
    model file runs only when the user gives it as ``model_file``
    (``ctxcheck replay T --model FILE``). Raises :class:`TraceFileError`
    naming the model problem, or the first step at which the model no
    longer does what the file recorded.
    """
    data = trace.data
    model, config = _load_model(trace, model_file, paths)
    notes: list[str] = []
    changed = _source_changed(model, data)
    if changed:
        notes.append(f"note: {changed}")
    elif model_file is not None and not data["model_sha256"]:
        notes.append(
            f"note: {trace.path} records no SHA-256 of its model, so it cannot confirm that "
            f"{model_file} is the model it was recorded on"
        )
    budget = Bounds(max_steps=data["max_steps"])
    ex = _replay_steps(trace, model, config, changed, notes)
    found = ex.violation
    if found is None or found.prop != data["property"]:
        now = "no violation" if found is None else f"a violation of {found.prop}"
        raise TraceFileError(
            f"trace file {trace.path} no longer reproduces: it recorded a violation of "
            f"{data['property']} after {data['steps']} steps; replaying all of them now gives "
            f"{now}{_because(changed)}"
        )
    if found.message != data["message"]:
        notes.append(
            f"note: the message changed: recorded {_clip(data['message'])!r}, "
            f"now {_clip(found.message)!r}"
        )
    v = trace.violation()
    v.message = found.message
    v.events = ex.events
    result = Result(
        model_file if model_file is not None else data["model"],
        config.variant,
        dict(config.params),
        "replay",
        False,
        budget,
        Stats(executions=1, steps=ex.steps),
        [v],
        memory_model=config.memory_model,
    )
    return result, notes


def _load_model(
    trace: TraceFile, model_file: str | None, paths: Sequence[str] = ()
) -> tuple[Model, Config]:
    """The model a replay runs: never code the trace file chose by itself.

    A trace file is data that reviewers pass around by mail, so its
    ``model`` field is only ever used as a *name*, looked up among the
    models already on the model path (``models/`` of the current
    directory or of the installed ctxcheck). A trace recorded on a model
    file names that file, and replaying it needs the user to name the
    file on the command line (``model_file``); its SHA-256 is then
    compared with the one the trace recorded.
    """
    data = trace.data
    recorded = data["model"]
    if model_file is None and is_model_file(recorded):
        raise TraceFileError(
            f"trace file {trace.path} was recorded on the model file {recorded!r}. A trace "
            f"never loads code by itself: if that file is the model you mean, name it, as in "
            f"`ctxcheck replay {trace.path} --model FILE`"
        )
    try:
        model = load_named_model(recorded, paths) if model_file is None else load_model(model_file)
    except CtxcheckError as exc:
        if model_file is None:
            problem = f"trace file {trace.path} records model {recorded!r}, which cannot be loaded"
        else:
            problem = (
                f"the model file {model_file}, given with --model to replay {trace.path}, "
                f"cannot be loaded"
            )
        hint = (
            f"; if you have its file, name it: `ctxcheck replay {trace.path} --model FILE`"
            if model_file is None
            else ""
        )
        raise TraceFileError(f"{problem} here: {exc}{hint}") from None
    if data["model_name"] and model.name != data["model_name"]:
        given = repr(recorded) if model_file is None else model_file
        raise TraceFileError(
            f"trace file {trace.path} was recorded on model {data['model_name']!r}, but "
            f"{given} now loads model {model.name!r}"
        )
    try:
        config = model.config(data["variant"], data["params"], data.get("memory_model", "sc"))
    except CtxcheckError as exc:
        raise TraceFileError(f"trace file {trace.path} does not fit the model: {exc}") from None
    return model, config


def _source_changed(model: Model, data: dict[str, Any]) -> str:
    current = model_hash(model)
    if current and data["model_sha256"] and current != data["model_sha256"]:
        return f"{model.source} changed since the trace was recorded"
    return ""


def _because(changed: str) -> str:
    return f" ({changed})" if changed else ""


def _replay_steps(
    trace: TraceFile, model: Model, config: Config, changed: str, notes: list[str]
) -> Execution:
    """Run the schedule step by step, comparing each step with the recorded event."""
    from ctxcheck.runtime import Execution

    recorded = trace.events
    ex = Execution(model, config, trace.data["max_steps"], record=True)
    for (tid, branch), old in zip(trace.schedule, recorded, strict=True):
        problem = _step_problem(ex, tid, branch, old)
        if problem:
            raise TraceFileError(
                f"trace file {trace.path} diverges from the model at step {old.step}: "
                f"recorded {old.thread} {old.text} ({old.function}, {old.file}:{old.line}); "
                f"{problem}{_because(changed)}"
            )
        ex.step(tid, branch)
        new = ex.events[-1]
        if new.value != old.value and not any("value" in n for n in notes):
            notes.append(
                f"note: step {old.step} now gives the value {new.value}, recorded {old.value}"
            )
    return ex


def _step_problem(ex: Execution, tid: int, branch: int, old: Event) -> str:
    """Why ``tid`` cannot take the recorded step now, or '' if it can."""
    found = ex.violation
    if found is not None:
        return f"the model now stops before it, with a violation of {found.prop}: {found.message}"
    threads = ex.machine.threads
    if tid >= len(threads):
        return f"the model now has no thread {tid} (it has {len(threads)})"
    thread = threads[tid]
    if thread.name != old.thread:
        return f"thread {tid} is now {thread.name}"
    if tid not in ex.enabled():
        state = "has finished" if thread.finished else "cannot move (blocked)"
        return f"now {thread.name} {state}"
    op = thread.pending
    assert op is not None
    target = op.target()
    obj = target.name if target is not None else None
    if op.name != old.op or obj != old.obj:
        return f"now its next step is {op.name}({obj or ''})"
    if branch >= ex.branches(tid):
        return f"now that step has no outcome {branch}"
    return ""


def _clip(text: str, limit: int = 200) -> str:
    """A recorded text short enough for a note (a trace may hold megabytes)."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"
