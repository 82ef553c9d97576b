"""Threads that start threads and wait for them: ``spawn`` and ``wait_for``.

A spawned thread (an IPI handler, an RCU callback, a forked task) starts
after the step that created it; thread ids are creation order, so a spawn
decides the ids of the threads it makes (see
:mod:`ctxcheck.explorers.deps`). Waiting for a thread to finish is enabled
once it has, and synchronises with its end (its ``done`` object).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctxcheck.primitives.base import (
    WAIT,
    Footprint,
    Op,
    SharedObject,
    StepMachine,
    StepThread,
)


class Spawn(Op):
    """Start a new thread (an IPI handler, an RCU callback, a forked task)."""

    __slots__ = ("args", "cpu", "func", "irq", "label", "task")
    name = "spawn"
    creates_thread = True

    def __init__(
        self,
        label: str,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        cpu: Any = None,
        task: Any = None,
        irq: bool = False,
    ) -> None:
        self.label = label
        self.func = func
        self.args = args
        self.cpu = cpu
        self.task = task
        self.irq = irq

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        return m.spawn_thread(self.label, self.func, self.args, self.cpu, self.task, self.irq,
                              t.tid)  # fmt: skip

    def lkmm(self, weak: Any, t: StepThread, result: Any) -> None:
        weak.spawned(t, result)

    def describe(self, result: Any) -> str:
        return f"{self.name}({self.label})"

    def signature(self) -> tuple[str, int]:
        return (f"spawn:{self.label}", -1)


class Join(Op):
    """Wait until another thread has finished (an IPI's ``wait=1``)."""

    __slots__ = ("thread",)
    name = "wait_for"

    def __init__(self, thread: StepThread) -> None:
        self.thread = thread

    def enabled(self, m: StepMachine, t: StepThread) -> bool:
        return self.thread.finished

    def blocked_why(self, m: StepMachine, t: StepThread) -> tuple[str, StepThread | None]:
        return f"waits for {self.thread.name} to finish", self.thread

    def footprint(self, m: StepMachine, t: StepThread) -> Footprint:
        return ((self.thread.done.oid, WAIT),)

    def target(self) -> SharedObject:
        return self.thread.done

    def lkmm(self, weak: Any, t: StepThread, result: Any) -> None:
        weak.joined(t, self.thread)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        return self.thread.result

    def describe(self, result: Any) -> str:
        return f"wait_for({self.thread.name})"
