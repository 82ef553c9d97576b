"""Trace files: a counterexample as versioned JSON that ``ctxcheck replay`` re-runs.

The file pins what is needed to re-execute the schedule (what to load, the
variant, the parameters, the step bound) and records what was seen (every
event), the ctxcheck version and a SHA-256 of the model's source, so that a
replay can say precisely why it no longer reproduces: the file is damaged,
of another format version, names a model that cannot be loaded, or the model
changed and the schedule now diverges at a given step. The layout is the JSON
schema ``trace_schema.json`` shipped in the package; :func:`load` validates
every file against it. Plain JSON only: no pickle, no eval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctxcheck.errors import CtxcheckError, TraceFileError
from ctxcheck.result import Result, Violation, decode_schedule, encode_schedule
from ctxcheck.runtime import Event

if TYPE_CHECKING:
    from ctxcheck.model import Config, Model
    from ctxcheck.runtime import Execution

FORMAT = "ctxcheck-trace"
VERSION = 1
SCHEMA = "trace_schema.json"


@dataclass
class TraceFile:
    """A loaded (validated) trace file: its path and its JSON data."""

    path: str
    data: dict[str, Any]

    @property
    def schedule(self) -> list[tuple[int, int]]:
        """The schedule to replay: (thread id, outcome) per step."""
        return decode_schedule(self.data["schedule"])

    @property
    def events(self) -> list[Event]:
        """The recorded events."""
        return [Event.from_json(e) for e in self.data["events"]]

    def violation(self) -> Violation:
        """The recorded counterexample, as the check reported it."""
        from ctxcheck.counterexample import Counterexample

        d = self.data
        return Counterexample(
            property=d["property"],
            message=d["message"],
            steps=d["steps"],
            preemptions=d["preemptions"],
            schedule=self.schedule,
            events=self.events,
            trace_file=self.path,
            minimal=d.get("minimal", "reduced"),
            minimal_note=d.get("minimal_note"),
        )

    def result(self) -> Result:
        """A :class:`Result` holding just the recorded counterexample (no re-execution)."""
        from ctxcheck.explorers.base import Stats
        from ctxcheck.options import Bounds

        d = self.data
        budget = Bounds(max_steps=d["max_steps"])
        return Result(
            d["model"],
            d["variant"],
            dict(d["params"]),
            d["explorer"],
            False,
            budget,
            Stats(),
            [self.violation()],
        )


# -- writing -------------------------------------------------------------------
def to_json(result: Result, v: Violation, model_sha256: str | None = None) -> dict[str, Any]:
    """The trace-file object for one violation of a result.

    ``result.model`` is what a replay loads (a model name or file); the
    model's declared name and source file are looked up from it when possible.
    """
    from ctxcheck import __version__

    name, source, digest = _model_identity(result.model)
    return {
        "format": FORMAT,
        "version": VERSION,
        "ctxcheck": __version__,
        "model": result.model,
        "model_name": name,
        "model_source": source,
        "model_sha256": model_sha256 if model_sha256 is not None else digest,
        "variant": result.variant,
        "params": dict(result.params),
        "max_steps": result.bounds.max_steps,
        "explorer": result.explorer,
        "property": v.property,
        "message": v.message,
        "steps": v.steps,
        "preemptions": v.preemptions,
        "minimal": getattr(v, "minimal", "reduced"),
        "minimal_note": getattr(v, "minimal_note", None),
        "schedule": encode_schedule(v.schedule),
        "choices": [
            {"step": i, "thread": tid, "outcome": branch}
            for i, (tid, branch) in enumerate(v.schedule, 1)
            if branch
        ],
        "events": [e.to_json() for e in v.events],
    }


def _model_identity(target: str) -> tuple[str, str, str]:
    """(declared name, source file, source hash) of a target, or what is known."""
    from ctxcheck.loader import load_model, model_hash

    try:
        model = load_model(target)
    except CtxcheckError:
        return target, "", ""
    return model.name, model.source, model_hash(model)


def save(path: str | Path, result: Result, v: Violation, model_sha256: str | None = None) -> None:
    """Write one violation's trace file (``result.model`` is what replay loads)."""
    text = json.dumps(to_json(result, v, model_sha256), indent=1) + "\n"
    try:
        Path(path).write_text(text)
    except OSError as exc:
        raise TraceFileError(f"cannot write trace file {path}: {exc.strerror or exc}") from None


# -- reading -------------------------------------------------------------------
@cache
def schema() -> dict[str, Any]:
    """The JSON schema of trace files (package data)."""
    text = resources.files("ctxcheck").joinpath(SCHEMA).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def load(path: str | Path) -> TraceFile:
    """Read and validate a trace file; every problem is a :class:`TraceFileError`."""
    data = _parse(path)
    _check_version(path, data)
    _validate(path, data)
    _check_consistent(path, data)
    return TraceFile(str(path), data)


def _parse(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise TraceFileError(f"trace file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceFileError(f"cannot read trace file {path}: {exc}") from None
    if not text.strip():
        raise TraceFileError(f"trace file {path} is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        end = text.rstrip()
        if exc.pos >= len(end) or (end[:1] in "{[" and end[-1:] not in "}]"):
            raise TraceFileError(
                f"trace file {path} is truncated: the JSON ends at line {exc.lineno} before "
                f"the document is complete. Re-create it with `ctxcheck check --trace-out`."
            ) from None
        raise TraceFileError(
            f"trace file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceFileError(
            f'{path} is not a ctxcheck trace file (it has no "format": "{FORMAT}")'
        )
    return data


def _check_version(path: str | Path, data: dict[str, Any]) -> None:
    version = data.get("version")
    if version != VERSION:
        by = data.get("ctxcheck")
        writer = f" (written by ctxcheck {by})" if isinstance(by, str) else ""
        raise TraceFileError(
            f"trace file {path} has format version {version!r}{writer}; this ctxcheck reads "
            f"version {VERSION}. Re-create it with `ctxcheck check --trace-out`."
        )


def _validate(path: str | Path, data: dict[str, Any]) -> None:
    import jsonschema  # type: ignore[import-untyped]

    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = _json_path(error.absolute_path)
        raise TraceFileError(f"trace file {path} is malformed: {where}: {error.message}")


def _json_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def _check_consistent(path: str | Path, data: dict[str, Any]) -> None:
    """Cross-field checks the schema cannot express; they catch hand edits."""
    schedule = decode_schedule(data["schedule"])
    events = data["events"]
    damaged = "; the file was edited or damaged"
    if len(schedule) != data["steps"] or len(events) != data["steps"]:
        raise TraceFileError(
            f"trace file {path}: it says {data['steps']} steps but its schedule has "
            f"{len(schedule)} and it records {len(events)} events{damaged}"
        )
    for i, ((tid, _), event) in enumerate(zip(schedule, events, strict=True), 1):
        if event["step"] != i or event["tid"] != tid:
            raise TraceFileError(
                f"trace file {path}: step {i} of the schedule moves thread {tid}, but the "
                f"recorded event {event['step']} is by thread {event['tid']} "
                f"({event['thread']}){damaged}"
            )
    choices = [{"step": i, "thread": t, "outcome": b} for i, (t, b) in enumerate(schedule, 1) if b]
    if choices != data["choices"]:
        raise TraceFileError(f"trace file {path}: its choices do not match its schedule{damaged}")
    preemptions = sum(1 for e in events if e["preemption"])
    if preemptions != data["preemptions"]:
        raise TraceFileError(
            f"trace file {path}: it says {data['preemptions']} preemptions but its events "
            f"have {preemptions}{damaged}"
        )


# -- replaying -----------------------------------------------------------------
def replay(trace: TraceFile, model_file: str | None = None) -> tuple[Result, list[str]]:
    """Re-execute a trace; return the result and notes (e.g. a changed model).

    What is loaded follows one rule (:func:`_load_model`): the trace's
    ``model`` field may only *name* a model already on the model path; a
    model file runs only when the user gives it as ``model_file``
    (``ctxcheck replay T --model FILE``). Raises :class:`TraceFileError`
    naming the model problem, or the first step at which the model no
    longer does what the file recorded.
    """
    from ctxcheck.explorers.base import Stats
    from ctxcheck.options import Bounds

    data = trace.data
    model, config = _load_model(trace, model_file)
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
            f"note: the message changed: recorded {data['message']!r}, now {found.message!r}"
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
    )
    return result, notes


def _load_model(trace: TraceFile, model_file: str | None) -> tuple[Model, Config]:
    """The model a replay runs: never code the trace file chose by itself.

    A trace file is data that reviewers pass around by mail, so its
    ``model`` field is only ever used as a *name*, looked up among the
    models already on the model path (``models/`` of the current
    directory or of the installed ctxcheck). A trace recorded on a model
    file names that file, and replaying it needs the user to name the
    file on the command line (``model_file``); its SHA-256 is then
    compared with the one the trace recorded.
    """
    from ctxcheck.loader import is_model_file, load_model, load_named_model

    data = trace.data
    recorded = data["model"]
    if model_file is None and is_model_file(recorded):
        raise TraceFileError(
            f"trace file {trace.path} was recorded on the model file {recorded!r}. A trace "
            f"never loads code by itself: if that file is the model you mean, name it, as in "
            f"`ctxcheck replay {trace.path} --model FILE`"
        )
    try:
        model = load_named_model(recorded) if model_file is None else load_model(model_file)
    except CtxcheckError as exc:
        if model_file is None:
            problem = f"trace file {trace.path} records model {recorded!r}, which cannot be loaded"
        else:
            problem = (
                f"the model file {model_file}, given with --model to replay {trace.path}, "
                f"cannot be loaded"
            )
        raise TraceFileError(f"{problem} here: {exc}") from None
    if data["model_name"] and model.name != data["model_name"]:
        given = repr(recorded) if model_file is None else model_file
        raise TraceFileError(
            f"trace file {trace.path} was recorded on model {data['model_name']!r}, but "
            f"{given} now loads model {model.name!r}"
        )
    try:
        config = model.config(data["variant"], data["params"])
    except CtxcheckError as exc:
        raise TraceFileError(f"trace file {trace.path} does not fit the model: {exc}") from None
    return model, config


def _source_changed(model: Model, data: dict[str, Any]) -> str:
    from ctxcheck.loader import model_hash

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
