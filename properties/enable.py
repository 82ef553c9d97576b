"""Prompt enable: a counter opened or enabled on a running task counts at once.

When ``sys_perf_counter_open`` or ``perf_counter_enable`` returns while the
counter's task is current on its CPU (no interrupt in progress there, IRQs
on) and nothing else keeps the counter off the PMU (it is enabled, on the
task's context, nothing is exclusive or pinned), the counter is ACTIVE. A
counter left INACTIVE waits for the next tick or context switch: events in
between are lost. The model code evaluates the condition right after the
syscall's last step and records failures in ``state.prompt_failures``.
"""

from __future__ import annotations

from ctxcheck import Machine, Property
from properties.state import PerfState


def prompt_enable(m: Machine, s: PerfState) -> str | None:
    """The first recorded late start, if any."""
    return s.prompt_failures[0] if s.prompt_failures else None


PROMPT_ENABLE = Property(
    "prompt_enable",
    "a counter opened or enabled while its task runs is counting when the call returns",
    prompt_enable,
)
