"""The counterexample as plain text, at most 80 columns, fit for a mail reply."""

from __future__ import annotations

import shlex
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctxcheck.result import Result, Violation
    from ctxcheck.tracefile import TraceFile

WIDTH = 80


def reproduce_command(result: Result) -> str:
    """The exact ``ctxcheck check`` command that finds this result again."""
    parts = ["ctxcheck", "check", result.model, "--variant", result.variant]
    for key, value in result.params.items():
        parts += ["--param", f"{key}={value}"]
    parts += ["--explorer", result.explorer]
    if result.bounds.max_steps is not None:
        parts += ["--max-steps", str(result.bounds.max_steps)]
    return " ".join(shlex.quote(p) for p in parts)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def render_violation(result: Result, v: Violation, replay_file: str | None = None) -> str:
    """Numbered steps, thread and CPU, kernel function, operation; then why."""
    head = (
        f"{result.model} [{result.variant}] violates {v.property} in {v.steps} steps "
        f"({v.preemptions} preemption{'s' if v.preemptions != 1 else ''})"
    )
    lines = textwrap.wrap(head, WIDTH)
    lines.append("")
    lines.append(f"{'step':>4} {'thread':<18} {'function':<24} operation")
    for e in v.events:
        who = e.thread + (f"@{e.cpu}" if e.cpu and "@" not in e.thread else "")
        mark = "*" if e.preemption else " "
        flags = " [irq-off]" if e.irqs_off else ""
        prefix = f"{e.step:>4}{mark}{_cut(who, 18):<18} {_cut(e.function, 24):<24} "
        body = e.text + flags
        room = WIDTH - len(prefix)
        wrapped = textwrap.wrap(body, room) or [""]
        lines.append(prefix + wrapped[0])
        lines.extend(" " * len(prefix) + w for w in wrapped[1:])
    lines.append("")
    lines.extend(textwrap.wrap(f"=> {v.property}: {v.message}", WIDTH, subsequent_indent="   "))
    lines.append("(* = preemption: the previous thread could have gone on)")
    lines.append("Reproduce:")
    cmd = f"ctxcheck replay {replay_file}" if replay_file else reproduce_command(result)
    lines.extend(textwrap.wrap(cmd, WIDTH - 2, initial_indent="  ", subsequent_indent="    ",
                               break_on_hyphens=False, break_long_words=False))
    return "\n".join(lines)


def render_trace_file(trace: TraceFile) -> str:
    """The text trace of a loaded trace file (no re-execution needed)."""
    from ctxcheck.explorers.base import Budget, Stats
    from ctxcheck.result import Result, Violation

    d = trace.data
    v = Violation(d["property"], d["message"], d["steps"], d["preemptions"], trace.schedule,
                  trace.events, trace.path)  # fmt: skip
    r = Result(d["model"], d["variant"], d["params"], d["explorer"], False,
               Budget(max_steps=d["max_steps"]), Stats(), [v])  # fmt: skip
    return render_violation(r, v, trace.path)
