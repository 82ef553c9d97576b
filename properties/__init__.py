"""Reusable invariants over perf_counter model state.

Each property is a :class:`ctxcheck.Property` whose check reads the state a
scenario's setup returned, through the small protocol in
:mod:`properties.state` (contexts, counters, tasks, per-CPU contexts), so it
does not depend on any one scenario. The built-in properties (memory_safety,
list_integrity, locking, deadlock, termination, bug_on, warn_on) come from
the engine's primitives; these add what a kernel reviewer means by "the
context code is right".
"""

from __future__ import annotations

from properties.cpuctx import CONSISTENT_CPUCTX, COUNTERS_ON_SCHEDULED_CTX
from properties.enable import PROMPT_ENABLE
from properties.leak import NO_LEAK
from properties.lists import NR_COUNTERS_MATCHES
from properties.ownership import ONE_CTX_PER_TASK
from properties.refcount import REFCOUNT_EQUALS_REFERENCES

#: every perf_counter property, in report order
ALL = (
    NR_COUNTERS_MATCHES,
    REFCOUNT_EQUALS_REFERENCES,
    ONE_CTX_PER_TASK,
    CONSISTENT_CPUCTX,
    COUNTERS_ON_SCHEDULED_CTX,
    PROMPT_ENABLE,
    NO_LEAK,
)

__all__ = [
    "ALL",
    "CONSISTENT_CPUCTX",
    "COUNTERS_ON_SCHEDULED_CTX",
    "NO_LEAK",
    "NR_COUNTERS_MATCHES",
    "ONE_CTX_PER_TASK",
    "PROMPT_ENABLE",
    "REFCOUNT_EQUALS_REFERENCES",
]
