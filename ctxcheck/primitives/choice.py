"""Nondeterministic choices, explored like schedules: ``choose``."""

from __future__ import annotations

from typing import Any

from ctxcheck.primitives.base import Op, StepMachine, StepThread, describe


class Choose(Op):
    """A nondeterministic choice among options, explored like a schedule."""

    __slots__ = ("label", "options")
    name = "choose"

    def __init__(self, options: tuple[Any, ...], label: str) -> None:
        if not options:
            raise ValueError("choose needs at least one option")
        self.options = options
        self.label = label

    def branches(self, m: StepMachine, t: StepThread) -> int:
        return len(self.options)

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        return self.options[branch]

    def describe(self, result: Any) -> str:
        return f"choose({self.label}) = {describe(result)}"

    def signature(self) -> tuple[str, int]:
        return (f"choose:{self.label}/{len(self.options)}", -1)
