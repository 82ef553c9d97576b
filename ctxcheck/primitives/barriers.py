"""Memory barriers: ``smp_mb()``, ``smp_wmb()``, ``smp_rmb()`` and the atomic fences.

A barrier changes no state and touches no object: under sequential
consistency it does nothing, and under ``--memory-model lkmm`` it is a fence
event at its place in the CPU's program order (:mod:`ctxcheck.lkmm.engine`).
Either way where it is interleaved with other threads' steps cannot matter,
so a barrier is no scheduling point: the runtime performs it together with
the thread's previous step (``inline``). Adding barriers to a model therefore
leaves its SC search, its step numbers and its traces exactly as they were.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ctxcheck.primitives.base import Op, StepMachine, StepThread

#: the barriers of tools/memory-model/linux-kernel.def, by kernel name -> LKMM fence tag
FENCES = {
    "smp_mb": "mb",
    "smp_wmb": "wmb",
    "smp_rmb": "rmb",
    "smp_mb__before_atomic": "before-atomic",
    "smp_mb__after_atomic": "after-atomic",
    "smp_mb__after_spinlock": "after-spinlock",
    "smp_mb__after_unlock_lock": "after-unlock-lock",
    "barrier": "barrier",
}


class Fence(Op):
    """One barrier; ``name`` is its kernel name (a key of :data:`FENCES`)."""

    __slots__ = ("kernel_name",)
    writes = False
    #: performed with the thread's previous step, never scheduled on its own
    inline: ClassVar[bool] = True

    def __init__(self, kernel_name: str) -> None:
        if kernel_name not in FENCES:
            raise ValueError(f"unknown barrier {kernel_name!r}; known: {', '.join(FENCES)}")
        self.kernel_name = kernel_name

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.kernel_name

    def run(self, m: StepMachine, t: StepThread, branch: int) -> Any:
        weak = m.weak
        if weak is not None:
            weak.fence(t, FENCES[self.kernel_name], self.kernel_name)
        return None
