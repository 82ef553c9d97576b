"""What an execution records: :class:`Event` per step, :class:`Found` per violation.

Explorers run without recording; a counterexample is replayed with it, and
each step becomes an :class:`Event`: the thread and CPU, the operation and
its value, the kernel function and source line of the model (and, when the
model cites it, the line of the code it follows), the IRQ state and the
footprint. The trace file, the text trace, the lane diagram and the event
graph are all drawn from these.
"""

from __future__ import annotations

import os
import types
from dataclasses import dataclass, field
from typing import Any

from ctxcheck.machine import Thread
from ctxcheck.model import Citation
from ctxcheck.primitives.base import ACQUIRE, ADD, READ, RELEASE, WAIT, WRITE

#: the engine's own files: a step's "where" is the innermost frame outside them
ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))

ACCESS_NAMES = {
    READ: "R", WRITE: "W", ADD: "ADD", ACQUIRE: "ACQ", RELEASE: "REL", WAIT: "WAIT",
}  # fmt: skip


@dataclass(frozen=True)
class Found:
    """A violation found in one execution: which property, why, at which step."""

    prop: str
    message: str
    step: int


@dataclass
class Event:
    """One recorded step of an execution."""

    step: int
    tid: int
    thread: str
    cpu: str | None
    op: str
    text: str
    obj: str | None
    function: str
    file: str
    line: int
    stack: list[str]
    irqs_off: bool
    in_irq: bool
    footprint: list[tuple[str, str]] = field(default_factory=list)
    value: str | None = None
    preemption: bool = False
    #: the line of the code the model follows (``Model.cite``), if the model says
    cite: Citation | None = None

    def where(self, model_lines: bool = False) -> str:
        """``function:line``: the followed code's line when cited, else the model's."""
        line = self.line if model_lines or self.cite is None else self.cite.line
        return f"{self.function}:{line}"

    def to_json(self) -> dict[str, Any]:
        """The event as plain JSON data."""
        return {
            "step": self.step, "tid": self.tid, "thread": self.thread, "cpu": self.cpu,
            "op": self.op, "text": self.text, "object": self.obj, "value": self.value,
            "function": self.function, "file": self.file, "line": self.line,
            "stack": self.stack, "irqs_off": self.irqs_off, "in_irq": self.in_irq,
            "footprint": [list(x) for x in self.footprint], "preemption": self.preemption,
            "cite": None if self.cite is None else self.cite.to_json(),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        """Inverse of :meth:`to_json`."""
        return cls(
            step=data["step"], tid=data["tid"], thread=data["thread"], cpu=data["cpu"],
            op=data["op"], text=data["text"], obj=data["object"], function=data["function"],
            file=data["file"], line=data["line"], stack=list(data["stack"]),
            irqs_off=data["irqs_off"], in_irq=data["in_irq"],
            footprint=[(a, b) for a, b in data["footprint"]], value=data.get("value"),
            preemption=data.get("preemption", False),
            cite=Citation.from_json(data["cite"]) if data.get("cite") else None,
        )  # fmt: skip


def frames(t: Thread) -> list[types.FrameType]:
    """The suspended generator frames of a thread, outermost first."""
    out: list[types.FrameType] = []
    gen: Any = t.gen
    while gen is not None and getattr(gen, "gi_frame", None) is not None:
        out.append(gen.gi_frame)
        gen = gen.gi_yieldfrom
    return out


def model_frames(t: Thread) -> tuple[types.FrameType, list[types.FrameType]]:
    """The frame a step is "at" (the innermost outside the engine), and the model's frames."""
    chain = frames(t)
    own = [f for f in chain if not f.f_code.co_filename.startswith(ENGINE_DIR)]
    return (own[-1] if own else chain[-1]), own


def relpath(path: str) -> str:
    """A path relative to the current directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
