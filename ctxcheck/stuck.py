"""Why a run cannot go on: the messages of ``termination`` and ``deadlock``.

The runtime (:mod:`ctxcheck.runtime`) notices that a run hit its step bound
or that no thread can move; this module says why in words a model's author
can act on: a spin-wait that never blocks, a livelock, the wait-for cycle
of a deadlock.
"""

from __future__ import annotations

from ctxcheck.machine import Machine, Thread
from ctxcheck.primitives.base import describe

#: a termination whose last this many steps changed nothing is called a spin-wait
SPIN_STEPS = 8


def termination_message(max_steps: int, idle: int, idle_threads: list[str]) -> str:
    """Why the step bound was hit: a spin-wait that never blocks, or a real livelock.

    ``idle`` is how many of the last steps changed nothing, by ``idle_threads``.
    """
    head = f"the execution did not finish within {max_steps} steps: "
    if idle >= SPIN_STEPS:
        names = ", ".join(idle_threads)
        return (
            head + f"its last {idle} steps ({names}) changed nothing, a spin-wait "
            f"looping while the thread it waits for is not run. Write the loop as "
            f"`yield k.spin_until(lambda: <condition>)` or "
            f"`yield k.smp_cond_load_acquire(cell, lambda val: <condition>)`: the "
            f"thread then blocks until the condition holds (raising --max-steps would "
            f"not help)"
        )
    return (
        head + "its threads kept changing state (a retry loop that may never terminate: "
        "a livelock), or the model is longer than the bound. If every loop is bounded, "
        "raise --max-steps; if a loop only waits for another thread, write it with "
        "k.spin_until"
    )


def deadlock_message(m: Machine, live: list[Thread]) -> str:
    """Why each live thread cannot move, and the wait-for cycle if there is one."""
    waits: dict[int, Thread | None] = {}
    reasons = []
    for t in live:
        why, on = _why_blocked(m, t)
        waits[t.tid] = on
        reasons.append(f"{t.name} {why}")
    cycle = _find_cycle(waits, m.threads)
    text = "no thread can move: " + "; ".join(reasons)
    if cycle:
        text += ". Cycle: " + " -> ".join(t.name for t in cycle)
    return text


def _why_blocked(m: Machine, t: Thread) -> tuple[str, Thread | None]:
    cpu = t.cpu
    if cpu is not None and not m.runnable(t):
        if cpu._handler is not None and cpu._handler is not t:
            handler = m.threads[cpu._handler.tid]
            return f"is interrupted on {cpu.name} by {handler.name}", handler
        return (f"is not running: {cpu.name}.curr is {describe(cpu.curr._value)}", None)
    op = t.pending
    if op is None:
        return "cannot take its step ?", None
    why, on = op.blocked_why(m, t)
    return why, None if on is None else m.threads[on.tid]


def _find_cycle(waits: dict[int, Thread | None], threads: list[Thread]) -> list[Thread]:
    """A closed wait-for cycle: ``[A, B, A]`` means A waits for B, which waits for A."""
    for start in waits:
        order: list[int] = []
        cur: int | None = start
        while cur is not None and cur in waits and cur not in order:
            order.append(cur)
            nxt = waits[cur]
            cur = None if nxt is None else nxt.tid
        if cur is not None and cur in order:
            ring = [*order[order.index(cur) :], cur]
            return [threads[tid] for tid in ring]
    return []
