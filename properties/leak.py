"""No leak (final): everything still allocated is owned by a live reference.

Once every thread has finished, each live context, counter and counter file
must be reachable from a root that still exists: a file with references
(``f_count > 0``: an open fd or an inherited child counter holding it), a
task that has not exited (through ``perf_counter_ctxp``), and from there the
counters on a reachable context's ``event_list``, each counter's context and
its inherited children (``child_list``). Anything else can never be freed.
"""

from __future__ import annotations

from typing import Any

from ctxcheck import Machine, Property
from properties.state import PerfState, alive, counters_on


def _reachable(s: PerfState) -> set[int]:
    seen: set[int] = set()
    todo: list[Any] = []
    for task in s.tasks:
        if not s.task_exited(task):
            todo.append(task.perf_counter_ctxp.value)
    for filp in s.files:
        if alive(filp) and filp.f_count.value > 0:
            todo.append(filp)
    while todo:
        obj = todo.pop()
        if obj is None or id(obj) in seen or not alive(obj):
            continue
        seen.add(id(obj))
        for name in ("private_data", "ctx", "filp"):
            cell = getattr(obj, name, None)
            if cell is not None and hasattr(cell, "value"):
                todo.append(cell.value)
        if hasattr(obj, "event_list"):
            todo.extend(counters_on(obj))
        if hasattr(obj, "child_list"):
            todo.extend(node.owner for node in obj.child_list.entries())
    return seen


def no_leak(m: Machine, s: PerfState) -> str | None:
    """Live heap objects that no root reaches."""
    seen = _reachable(s)
    lost = [o.name for o in m.live_heap() if id(o) not in seen]
    if lost:
        return "never freed and unreachable: " + ", ".join(lost)
    return None


NO_LEAK = Property(
    "no_leak",
    "every context, counter and file is freed or reachable from an open fd or a live task",
    no_leak,
    final=True,
)
