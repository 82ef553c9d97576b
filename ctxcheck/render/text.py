"""The counterexample as plain text, at most 80 columns, fit for a mail reply.

This is the one text form of a counterexample: ``ctxcheck check`` prints it,
``ctxcheck render --format txt`` writes it, the pytest plugin puts it in a
failure and the proof report quotes it. It shows numbered steps with the
thread, CPU, IRQ state, kernel function and source line, the operation and
its value; then the violated property and the exact command that
reproduces the counterexample.

Only one thing may pass 80 columns: a file path too long to fit on a line by
itself, because a command must stay copy-pasteable. What a trace file says
is shown through :mod:`ctxcheck.render.safe`: control characters escaped,
texts of megabytes clipped, so a hostile file cannot drive the terminal or
take minutes to lay out.
"""

from __future__ import annotations

import os
import shlex
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ctxcheck.loader import is_model_file
from ctxcheck.render.fold import fold_runs, repeat_label
from ctxcheck.render.safe import clip, printable

if TYPE_CHECKING:
    from ctxcheck.result import Result, Violation
    from ctxcheck.runtime import Event
    from ctxcheck.tracefile import TraceFile

WIDTH = 80
_THREAD_MAX = 16
_FUNC_MAX = 26
#: fewer columns than this left for the operation: put it on a line of its own
_OP_MIN = 30
#: the longest message and operation text laid out (the trace file keeps the rest)
MESSAGE_MAX, OPERATION_MAX = 2000, 400


def reproduce_command(result: Result) -> str:
    """The exact ``ctxcheck check`` command that finds this result again."""
    return " ".join(shlex.quote(p) for p in _check_argv(result))


def _check_argv(result: Result) -> list[str]:
    target = result.target or result.model
    parts = ["ctxcheck", "check", target, "--variant", result.variant]
    for key, value in result.params.items():
        parts += ["--param", f"{key}={value}"]
    parts += ["--explorer", result.explorer]
    if result.memory_model != "sc":
        parts += ["--memory-model", result.memory_model]
    if result.bounds.max_steps is not None:
        parts += ["--max-steps", str(result.bounds.max_steps)]
    if result.bounds.max_preemptions is not None:
        parts += ["--max-preemptions", str(result.bounds.max_preemptions)]
    return parts


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class _Columns:
    """Column widths chosen from the events, so that narrow traces stay narrow."""

    thread: int
    cpu: int
    irq: int
    func: int

    @classmethod
    def fit(cls, events: Sequence[Event], model_lines: bool) -> _Columns:
        thread = max([len("thread")] + [len(e.thread) for e in events])
        cpus = [e.cpu for e in events if e.cpu]
        cpu = max([len("cpu")] + [len(c) for c in cpus]) if cpus else 0
        irq = 3 if any(e.irqs_off or e.in_irq for e in events) else 0
        func = max([len("function:line")] + [len(e.where(model_lines)) for e in events])
        return cls(min(thread, _THREAD_MAX), cpu, irq, min(func, _FUNC_MAX))

    def prefix(self, step: str, mark: str, thread: str, cpu: str, irq: str, func: str) -> str:
        out = f"{step:>3}{mark}{_cut(thread, self.thread):<{self.thread}} "
        if self.cpu:
            out += f"{cpu:<{self.cpu}} "
        if self.irq:
            out += f"{irq:<{self.irq}} "
        return out + f"{_cut_where(func, self.func):<{self.func}} "


def _cut_where(where: str, width: int) -> str:
    """``function:line`` cut to ``width``: the function name gives way, never the line."""
    name, sep, line = where.rpartition(":")
    if not sep or len(where) <= width or len(line) + 2 >= width:
        return _cut(where, width)
    return _cut(name, width - len(line) - 1) + ":" + line


def _irq(e: Event) -> str:
    if e.in_irq:
        return "in"
    return "off" if e.irqs_off else ""


def _heading(result: Result, v: Violation) -> list[str]:
    head = (
        f"{result.model} [{result.variant}] violates {v.property} in {v.steps} steps "
        f"({_plural(v.preemptions, 'preemption')})"
    )
    lines = textwrap.wrap(head, WIDTH)
    params = ", ".join(f"{k}={val}" for k, val in result.params.items())
    if params:
        lines.append(f"params: {params}")
    note = clip(v.minimal_note, MESSAGE_MAX) if v.minimal_note else None
    if v.minimal == "shortest":
        why = "minimal: no schedule violates it in fewer steps, nor with fewer preemptions"
        lines += textwrap.wrap(why, WIDTH)
    else:
        why = f"minimal: not proven ({note})" if note else "minimal: not proven"
        lines += textwrap.wrap(why, WIDTH, subsequent_indent="  ")
    return lines


def _repeat_line(first: Event, n: int, indent: int) -> str:
    return " " * indent + repeat_label(first, n)


def _decided_line(indent: int) -> str:
    return f"{' ' * indent}^ this step decided it"


def _step_lines(
    events: Sequence[Event],
    model_lines: bool = False,
    decided: int | None = None,
) -> list[str]:
    """One line per step; two (operation below) when the columns leave it too little room.

    Runs of identical steps are folded into one line and a count (a spin of 37), the
    step that decided a final property gets a line below it.
    """
    cols = _Columns.fit(events, model_lines)
    width = len(cols.prefix("", " ", "", "", "", ""))
    wide = WIDTH - width >= _OP_MIN
    lines = [] if wide else ["  # thread, cpu, irq, function:line", "      operation"]
    if wide:
        lines.append(
            (cols.prefix("#", " ", "thread", "cpu", "irq", "function:line") + "operation").rstrip()
        )
    indent = width if wide else 6
    for e, n in fold_runs(events, decided):
        lines += _wide_lines([e], cols, model_lines) if wide else _stacked_lines([e], model_lines)
        if n > 1:
            lines.append(_repeat_line(e, n, indent))
        if e.step == decided:
            lines.append(_decided_line(indent))
    return lines


def _wide_lines(events: Sequence[Event], cols: _Columns, model_lines: bool) -> list[str]:
    lines = []
    for e in events:
        mark = "*" if e.preemption else " "
        where = e.where(model_lines)
        prefix = cols.prefix(str(e.step), mark, e.thread, e.cpu or "-", _irq(e), where)
        text = clip(e.text, OPERATION_MAX)
        wrapped = textwrap.wrap(text, WIDTH - len(prefix), subsequent_indent="  ") or [""]
        lines.append(prefix + wrapped[0])
        lines.extend(" " * len(prefix) + w for w in wrapped[1:])
    return lines


def _stacked_lines(events: Sequence[Event], model_lines: bool) -> list[str]:
    """Long names: the step, thread, CPU, IRQ state and function, then the operation."""
    lines = []
    for e in events:
        mark = "*" if e.preemption else " "
        who = ", ".join(x for x in (e.thread, e.cpu or "", _irq(e) and f"irq {_irq(e)}") if x)
        head = f"{e.step:>3}{mark}{who}, {e.where(model_lines)}"
        lines += textwrap.wrap(head, WIDTH, subsequent_indent="      ")
        text = clip(e.text, OPERATION_MAX)
        lines += textwrap.wrap(text, WIDTH, initial_indent="      ", subsequent_indent="        ")
    return lines


def _legend(events: Sequence[Event], model_lines: bool = False) -> list[str]:
    notes = []
    if any(e.preemption for e in events):
        notes.append("* = preemption: the previous thread could have gone on")
    if any(e.irqs_off or e.in_irq for e in events):
        notes.append("irq: off = IRQs disabled, in = inside an interrupt handler")
    cited = sorted({_revision(e) for e in events if e.cite is not None})
    if cited and not model_lines:
        label = "lines: " + ", ".join(cited)
        notes += textwrap.wrap(label, WIDTH, subsequent_indent="  ")
        if len(cited) and any(e.cite is None for e in events):
            notes.append("  (steps without a cited line give the model's line)")
    files = sorted({e.file for e in events if e.file})
    if files:
        label = "model: " if cited and not model_lines else "source: "
        if len(files) > 1:
            label = "models: " if cited and not model_lines else "sources: "
        notes += textwrap.wrap(label + ", ".join(files), WIDTH, subsequent_indent="  ")
    return notes


def _revision(e: Event) -> str:
    cite = e.cite
    assert cite is not None
    return f"{cite.path} at {cite.revision}" if cite.revision else cite.path


def command_lines(argv: Sequence[str], indent: str = "  ") -> list[str]:
    """A shell command split over lines with ``\\`` continuations, each within 80 columns.

    A single argument longer than a line is never split (it stays copy-pasteable).
    """
    words = [shlex.quote(w) for w in argv]
    lines: list[str] = []
    current = indent + words[0]
    for word in words[1:]:
        if len(current) + 1 + len(word) + 2 <= WIDTH:
            current += " " + word
        else:
            lines.append(current + " \\")
            current = indent + "    " + word
    lines.append(current)
    return lines


def replay_argv(replay_file: str, model: str) -> list[str]:
    """``ctxcheck replay FILE``, with ``--model`` when the model is a file.

    A trace loads a model by name only; one recorded on a model file needs
    the file named on the command line (see :mod:`ctxcheck.replay`).
    """
    argv = ["ctxcheck", "replay", replay_file]
    return [*argv, "--model", model] if is_model_file(model) else argv


def _reproduce(result: Result, replay_file: str | None, model: str | None) -> list[str]:
    if replay_file:
        argv = replay_argv(replay_file, model or result.target or result.model)
        if len(argv) == 3:  # one path: a line of its own, however long
            return ["Reproduce:", "  " + shlex.join(argv)]
        return ["Reproduce:", *command_lines(argv)]
    return ["Reproduce:", *command_lines(_check_argv(result))]


def render_violation(
    result: Result,
    v: Violation,
    replay_file: str | None = None,
    model: str | None = None,
    model_lines: bool = False,
) -> str:
    """Numbered steps, thread and CPU, kernel function, operation; then why and how to re-run.

    Every character that could act on a terminal is escaped
    (:func:`~ctxcheck.render.safe.printable`): a trace file is someone else's data.
    """
    lines = _heading(result, v)
    lines.append("")
    decided = shown_decided(v)
    lines += _step_lines(v.events, model_lines, decided)
    lines.append("")
    at = f"after step {v.events[-1].step}" if v.events else "before any step"
    why = f"=> {at}: {v.property}: {clip(v.message, MESSAGE_MAX)}"
    lines += textwrap.wrap(why, WIDTH, subsequent_indent="   ")
    lines += _decided_lines(v, decided, at)
    returned = {name: value for name, value in v.results.items() if value != "NULL"}
    if returned:
        said = ", ".join(f"{name} = {clip(value, 200)}" for name, value in returned.items())
        lines += textwrap.wrap(f"returned: {said}", WIDTH, subsequent_indent="  ")
    lines += _legend(v.events, model_lines)
    lines += _reproduce(result, replay_file, model)
    return printable("\n".join(lines))


def _decided_lines(v: Violation, decided: int | None, at: str) -> list[str]:
    """What the marked step means for a property judged at the end of the execution."""
    text = decided_text(v, decided, at)
    return textwrap.wrap("   " + text, WIDTH, subsequent_indent="     ") if text else []


def decided_text(v: Violation, decided: int | None, at: str) -> str | None:
    """``step 16 decided it (...)``, or that ``at`` is only where it was noticed.

    None for a property judged at its own step (an invariant): there the
    marked step is the violation. The lane diagram says the same sentence.
    """
    if decided is not None:
        return f"step {decided} decided it ({clip(v.decided_note or '', MESSAGE_MAX)})"
    if v.decided_note:
        return f"{at} is only where it was noticed ({clip(v.decided_note, MESSAGE_MAX)})"
    return None


def shown_decided(v: Violation) -> int | None:
    """The deciding step when it is one of the recorded steps, else None."""
    return v.decided_step if any(e.step == v.decided_step for e in v.events) else None


def render_trace_file(trace: TraceFile, model_lines: bool = False) -> str:
    """The text trace of a loaded trace file (no re-execution needed).

    Steps name the followed code's lines where the model cites them; with
    ``model_lines`` the model's own ``file:line`` (for debugging a model).
    """
    return render_violation(
        trace.result(), trace.violation(), _display(trace.path), model_lines=model_lines
    )


def _display(path: str) -> str:
    """A path as short as it can be from here: relative when below the current directory."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
