"""The trace file format: a counterexample as versioned JSON, read and written.

The file pins what is needed to re-execute the schedule (what to load, the
variant, the parameters, the step bound) and records what was seen (every
event), the ctxcheck version and a SHA-256 of the model's source, so that a
replay (:mod:`ctxcheck.replay`) can say precisely why it no longer
reproduces. The layout is the JSON schema ``trace_schema.json`` shipped in
the package; :func:`load` validates every file against it.

This module only reads and writes the format: it never loads a model and
never runs one. A trace file arrives by mail, so reading one is hardened
against anything a file can hold: a directory or a device in its place,
gigabytes, JSON nested thousands deep, integers of thousands of digits,
fields that contradict each other. Each is a :class:`TraceFileError` naming
the file. Plain JSON only: no pickle, no eval.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ctxcheck.errors import TraceFileError
from ctxcheck.explorers.base import Stats
from ctxcheck.options import Bounds
from ctxcheck.result import Result, Violation, decode_schedule, encode_schedule
from ctxcheck.runtime import Event

FORMAT = "ctxcheck-trace"
VERSION = 1
SCHEMA = "trace_schema.json"
#: no trace ctxcheck writes comes near this; a bigger file is refused unread
MAX_BYTES = 64 * 1024 * 1024
#: a trace file nests five levels (events, an event, its footprint, one access);
#: anything deeper is refused before any code walks it recursively
MAX_DEPTH = 16


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
        d = self.data
        return Violation(
            property=d["property"],
            message=d["message"],
            steps=d["steps"],
            preemptions=d["preemptions"],
            schedule=self.schedule,
            events=self.events,
            trace_file=self.path,
            minimal=d.get("minimal", "reduced"),
            minimal_note=d.get("minimal_note"),
            results=dict(d.get("results") or {}),
            decided_step=d.get("decided_step"),
            decided_note=d.get("decided_note"),
        )

    def result(self) -> Result:
        """A :class:`Result` holding just the recorded counterexample (no re-execution).

        Its ``model`` is what the file says replay loads, and it carries the
        recorded source and digest, so that :func:`save` writes the same file.
        """
        d = self.data
        return Result(
            d["model"],
            d["variant"],
            dict(d["params"]),
            d["explorer"],
            False,
            Bounds(max_steps=d["max_steps"]),
            Stats(),
            [self.violation()],
            model_source=d.get("model_source", ""),
            model_sha256=d.get("model_sha256", ""),
            model_name=d.get("model_name", ""),
            memory_model=d.get("memory_model", "sc"),
        )


# -- writing -------------------------------------------------------------------
def to_json(result: Result, v: Violation, model_sha256: str | None = None) -> dict[str, Any]:
    """The trace-file object for one violation of a result.

    ``result.model`` is what a replay loads (a model name, or the file it was
    recorded on); ``result.model_name``, ``model_source`` and
    ``model_sha256`` say what that was when the file was written (the
    writer, :mod:`ctxcheck.artifacts`, fills them from the model it has).
    ``model_sha256`` overrides the result's digest ('' records none).
    """
    from ctxcheck.version import __version__

    return {
        "format": FORMAT,
        "version": VERSION,
        "ctxcheck": __version__,
        "model": result.model,
        "model_name": result.model_name or result.model,
        "model_source": result.model_source,
        "model_sha256": result.model_sha256 if model_sha256 is None else model_sha256,
        "variant": result.variant,
        "params": dict(result.params),
        "max_steps": result.bounds.max_steps,
        "explorer": result.explorer,
        "memory_model": result.memory_model,
        "property": v.property,
        "message": v.message,
        "steps": v.steps,
        "preemptions": v.preemptions,
        "minimal": v.minimal,
        "minimal_note": v.minimal_note,
        "results": dict(v.results),
        "decided_step": v.decided_step,
        "decided_note": v.decided_note,
        "schedule": encode_schedule(v.schedule),
        "choices": [
            {"step": i, "thread": tid, "outcome": branch}
            for i, (tid, branch) in enumerate(v.schedule, 1)
            if branch
        ],
        "events": [e.to_json() for e in v.events],
    }


def dumps(result: Result, v: Violation, model_sha256: str | None = None) -> str:
    """The text of one violation's trace file."""
    return json.dumps(to_json(result, v, model_sha256), indent=1) + "\n"


def save(path: str | Path, result: Result, v: Violation, model_sha256: str | None = None) -> None:
    """Write one violation's trace file (``result.model`` is what replay loads)."""
    from ctxcheck.output import write_output

    write_output(Path(path), dumps(result, v, model_sha256), "trace file")


# -- reading -------------------------------------------------------------------
@cache
def schema() -> dict[str, Any]:
    """The JSON schema of trace files (package data)."""
    text = resources.files("ctxcheck").joinpath(SCHEMA).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def load(path: str | Path) -> TraceFile:
    """Read and validate a trace file; every problem is a :class:`TraceFileError`."""
    data = parse(path, _read(path))
    _check_version(path, data)
    _validate(path, data)
    _check_consistent(path, data)
    return TraceFile(str(path), data)


def _read(path: str | Path) -> str:
    """The file's text, refusing what no trace file is: a directory, a device, gigabytes."""
    from ctxcheck.output import path_problem

    problem = path_problem(str(path))
    if problem:
        raise TraceFileError(f"trace file {problem}")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise TraceFileError(f"trace file {path} does not exist") from None
    except OSError as exc:
        raise TraceFileError(f"cannot read trace file {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise TraceFileError(f"trace file {path} is a directory; give a .json trace file")
    if not stat.S_ISREG(info.st_mode):
        raise TraceFileError(f"trace file {path} is not a regular file (a device or a pipe?)")
    if info.st_size > MAX_BYTES:
        raise TraceFileError(
            f"trace file {path} is {info.st_size:,} bytes; no trace ctxcheck writes is "
            f"larger than {MAX_BYTES:,}, so it is not read"
        )
    try:
        return Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TraceFileError(
            f"trace file {path} is not UTF-8 text (byte {exc.start}); a trace file is JSON"
        ) from None
    except OSError as exc:
        raise TraceFileError(f"cannot read trace file {path}: {exc.strerror or exc}") from None


def parse(path: str | Path, text: str) -> dict[str, Any]:
    """The JSON object of a trace file's text (``path`` only names it in errors)."""
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
    except RecursionError:
        raise TraceFileError(
            f"trace file {path} nests its JSON deeper than Python reads; a trace file is "
            f"never nested more than a few levels"
        ) from None
    except ValueError:  # an integer of more digits than int() converts (4,300)
        raise TraceFileError(
            f"trace file {path} holds a number of more digits than Python reads (4,300); no "
            f"trace ctxcheck writes has one, so the file was edited or damaged"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceFileError(
            f'{path} is not a ctxcheck trace file (it has no "format": "{FORMAT}")'
        )
    if _depth(data) > MAX_DEPTH:
        raise TraceFileError(
            f"trace file {path} nests its JSON more than {MAX_DEPTH} levels deep; a trace "
            f"file is never nested more than a few levels"
        )
    return data


def _depth(data: Any) -> int:
    """How deep lists and objects nest in ``data`` (a walk without recursion)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _check_version(path: str | Path, data: dict[str, Any]) -> None:
    version = data.get("version")
    if type(version) is not int or version != VERSION:
        by = data.get("ctxcheck")
        writer = f" (written by ctxcheck {by[:40]})" if isinstance(by, str) else ""
        shown = repr(version)
        shown = shown if len(shown) <= 40 else shown[:40] + "..."
        raise TraceFileError(
            f"trace file {path} has format version {shown}{writer}; this ctxcheck reads "
            f"version {VERSION}. Re-create it with `ctxcheck check --trace-out`."
        )


def _validate(path: str | Path, data: dict[str, Any]) -> None:
    import jsonschema  # type: ignore[import-untyped]

    validator = jsonschema.Draft202012Validator(schema())
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    except RecursionError:
        raise TraceFileError(f"trace file {path} is malformed: it nests too deep") from None
    if error is not None:
        where = _json_path(error.absolute_path)
        message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
        raise TraceFileError(f"trace file {path} is malformed: {where}: {message}")


def _json_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def _schedule(path: str | Path, data: dict[str, Any]) -> list[tuple[int, int]]:
    try:
        return decode_schedule(data["schedule"])
    except ValueError:
        raise TraceFileError(
            f"trace file {path}: its schedule holds a thread or outcome number too long to "
            f"read; the file was edited or damaged"
        ) from None


def _check_consistent(path: str | Path, data: dict[str, Any]) -> None:
    """Cross-field checks the schema cannot express; they catch hand edits."""
    schedule = _schedule(path, data)
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
                f"({event['thread'][:60]}){damaged}"
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
