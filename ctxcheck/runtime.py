"""The runtime: executes one schedule of a model, step by step.

An :class:`Execution` builds the model's initial state on a fresh machine,
then performs the steps the explorer picks: ``step(tid, branch)`` runs the
pending operation of thread ``tid`` (with outcome ``branch`` for a
nondeterministic one), sends the result into the thread's generator and
collects the next operation. After each step that wrote memory it checks
the model's invariants; when every thread has finished, its final
properties. Whatever goes wrong ends the execution with a violation
(:attr:`Execution.violation`); model code that raises an ordinary Python
exception is a :class:`~ctxcheck.errors.ModelError` naming file and line.

With ``record=True`` every step is also written down as an :class:`Event`
(thread, CPU, operation, value, kernel function and source line); explorers
run without it and replay a counterexample with it.
"""

from __future__ import annotations

import os
import traceback
import types
from dataclasses import dataclass, field
from typing import Any

from ctxcheck import ops
from ctxcheck.errors import ModelError, NondeterministicModel, PropertyViolated
from ctxcheck.kernel import Kernel
from ctxcheck.machine import Machine, Thread
from ctxcheck.model import Citation, Config, Model
from ctxcheck.objects import describe
from ctxcheck.observe import PropertyReads, reads_into

#: steps that change whether the machine is quiescent
_CPU_STATE_OPS = (ops.CpuStateOp, ops.Acquire, ops.Release, ops.IrqEnter, ops.IrqExit)

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))

Footprint = ops.Footprint


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


@dataclass(frozen=True)
class Found:
    """A violation found in one execution: which property, why, at which step."""

    prop: str
    message: str
    step: int


_ACCESS_NAMES = {ops.READ: "R", ops.WRITE: "W", ops.ACQUIRE: "ACQ", ops.RELEASE: "REL",
                 ops.WAIT: "WAIT"}  # fmt: skip


class Execution:
    """One run of a model under a schedule chosen step by step."""

    def __init__(
        self, model: Model, config: Config, max_steps: int | None = None, record: bool = False
    ) -> None:
        self.model = model
        self.config = config
        self.max_steps = max_steps if max_steps is not None else model.max_steps
        self.record = record
        self.events: list[Event] = []
        self.schedule: list[tuple[int, int]] = []
        self.violation: Found | None = None
        self.steps = 0
        self.machine = Machine()
        self._invariants = model.invariants()
        self._finals = [p for p in model.properties if p.final]
        #: which invariants have read which objects (see ctxcheck.observe); an
        #: explorer may share one record between its executions
        self.observed = PropertyReads()
        #: quiescent invariants watch IRQ/lock state: its changes are visible to them
        self._quiescent = [i for i, p in enumerate(self._invariants) if p.quiescent]
        self._last_tid: int | None = None
        try:
            self.state = model.setup(self.machine, config)
        except PropertyViolated as v:
            raise ModelError(f"model {model.name}: setup raised {v}") from v
        except Exception as exc:  # any model failure is reported
            raise ModelError(_describe_exception(model, exc, "in setup", [])) from exc
        self._start_new_threads()
        self._enabled = self._compute_enabled()
        self._check_end()

    # -- queries for explorers -------------------------------------------
    @property
    def finished(self) -> bool:
        """True when the execution cannot or need not go on."""
        return self.violation is not None or not self._enabled

    def enabled(self) -> list[int]:
        """Thread ids that may take a step now, in tid order."""
        return self._enabled

    def thread(self, tid: int) -> Thread:
        """The thread with id ``tid``."""
        return self.machine.threads[tid]

    def choices(self, first: int | None = None) -> list[tuple[int, int]]:
        """Every (thread, outcome) that may move next; thread ``first`` first, if it can."""
        tids = self._enabled
        if first in tids:
            tids = [first] + [t for t in tids if t != first]
        return [(t, b) for t in tids for b in range(self.branches(t))]

    def branches(self, tid: int) -> int:
        """How many outcomes the next step of ``tid`` has."""
        t = self.machine.threads[tid]
        assert t.pending is not None
        return t.pending.branches(self.machine, t)

    def footprint(self, tid: int) -> Footprint:
        """Objects the next step of ``tid`` touches."""
        t = self.machine.threads[tid]
        op = t.pending
        assert op is not None
        fp = (*op.footprint(self.machine, t), (t.done.oid, ops.RELEASE))
        if t.cpu is not None and not t.irq:
            fp = (*fp, (t.cpu.exec.oid, ops.READ))
        return fp

    def signature(self, tid: int) -> tuple[str, int]:
        """The next operation of ``tid``, as a replay must find it again."""
        op = self.machine.threads[tid].pending
        assert op is not None
        return op.signature()

    # -- stepping -----------------------------------------------------------
    def step(self, tid: int, branch: int = 0) -> None:
        """Perform the pending operation of thread ``tid``."""
        m = self.machine
        t = m.threads[tid]
        op = t.pending
        if op is None or t.finished:
            raise NondeterministicModel(
                f"model {self.model.name}: replay asked thread {tid} to move at step "
                f"{self.steps}, but it has no pending step",
                list(self.schedule),
            )
        if t.irq and not t.in_irq and not isinstance(op, ops.IrqEnter):
            raise ModelError(
                f"model {self.model.name}: interrupt thread {t.name} must start with "
                f"`yield k.irq_enter()` before {op.name}",
                list(self.schedule),
            )
        event = self._begin_event(t, op) if self.record else None
        m.step = self.steps + 1  # 1-based, as the trace numbers steps
        self.schedule.append((tid, branch))
        self.steps += 1
        self._last_tid = tid
        m.creator = t
        try:
            result = op.run(m, t, branch)
        except PropertyViolated as v:
            m.creator = None
            self._finish_event(event, t, op, None)
            self.violation = Found(v.prop, v.message, self.steps)
            return
        if event is not None:
            self._finish_event(event, t, op, result)
        self._advance(t, result)
        m.creator = None
        if self.violation is not None:
            return
        if m.unstarted:
            self._start_new_threads()
        if self.violation is None and op.writes:
            self._check_invariants()
        self._enabled = self._compute_enabled()
        if self.violation is None:
            self._check_end()

    def replay(self, schedule: list[tuple[int, int]]) -> None:
        """Run a whole schedule, checking that each step is possible."""
        for tid, branch in schedule:
            if self.violation is not None:
                break
            if tid not in self._enabled:
                raise NondeterministicModel(
                    f"model {self.model.name}: at step {self.steps + 1} the schedule moves "
                    f"thread {tid}, which cannot move (enabled: {self._enabled})",
                    list(self.schedule),
                )
            self.step(tid, branch)

    # -- internals -------------------------------------------------------
    def _advance(self, t: Thread, result: Any) -> None:
        gen = t.gen
        assert gen is not None
        try:
            nxt = gen.send(result)
        except StopIteration as stop:
            self._thread_done(t, stop.value)
            return
        except PropertyViolated as v:
            self.violation = Found(v.prop, v.message, self.steps)
            return
        except Exception as exc:  # any model failure is reported
            raise ModelError(
                _describe_exception(self.model, exc, f"in thread {t.name}", self.schedule),
                list(self.schedule),
            ) from exc
        t.pending = self._check_op(t, nxt)

    def _check_op(self, t: Thread, value: Any) -> ops.Op:
        if isinstance(value, ops.Op):
            return value
        if isinstance(value, types.GeneratorType):
            hint = "it is a kernel helper made of several steps: call it with `yield from`"
        else:
            hint = "yield only k.<operation>(...) values"
        raise ModelError(
            f"model {self.model.name}: thread {t.name} yielded {value!r}, not an operation; {hint}",
            list(self.schedule),
        )

    def _thread_done(self, t: Thread, value: Any) -> None:
        t.finished = True
        t.pending = None
        t.result = value
        if t.held:
            self.violation = Found(
                ops.LOCKING, f"{t.name} finished holding {t.held[0].name}", self.steps
            )

    def _start_new_threads(self) -> None:
        m = self.machine
        while m.unstarted:
            thread, func, args = m.unstarted.pop(0)
            thread.k = Kernel(thread)
            m.creator = thread
            try:
                gen = func(thread.k, *args)
                thread.gen = gen
                first = next(gen)
            except StopIteration as stop:
                self._thread_done(thread, stop.value)
                continue
            except PropertyViolated as v:
                self.violation = Found(v.prop, v.message, self.steps)
                return
            except Exception as exc:  # any model failure is reported
                raise ModelError(
                    _describe_exception(self.model, exc, f"starting {thread.name}", self.schedule),
                    list(self.schedule),
                ) from exc
            finally:
                m.creator = None
            thread.pending = self._check_op(thread, first)

    def _compute_enabled(self) -> list[int]:
        # The hot loop of every explorer: skip the calls that cannot say no
        # (an unbound thread is always runnable; most ops never block).
        m = self.machine
        out = []
        for t in m.threads:
            op = t.pending
            if op is None or t.finished:
                continue
            if t.cpu is not None and not m.runnable(t):
                continue
            if op.blocking and not op.enabled(m, t):
                continue
            out.append(t.tid)
        return out

    def _check_invariants(self) -> None:
        m = self.machine
        quiet: bool | None = None
        observed = self.observed
        with reads_into(observed):
            for i, prop in enumerate(self._invariants):
                observed.judging(i)
                if prop.quiescent:
                    if quiet is None:
                        quiet = m.quiescent()
                    if not quiet:
                        continue
                message = self._run_check(prop.name, prop.check)
                if message:
                    self.violation = Found(prop.name, message, self.steps)
                    return

    def visible(self, tid: int) -> int:
        """Which invariants could the next step of ``tid`` change? A bit mask.

        A bit is set for each invariant (or part of one, see
        :func:`ctxcheck.observe.part`) that has read an object the step
        writes, and for each quiescent invariant when the step changes IRQ,
        preemption or lock state. 0: invisible. Explorers order two steps
        visible to one invariant (part).
        """
        t = self.machine.threads[tid]
        op = t.pending
        if op is None or not op.writes or not self._invariants:
            return 0
        observed = self.observed
        mask = 0
        if self._quiescent and isinstance(op, _CPU_STATE_OPS):
            for i in self._quiescent:
                mask |= observed.bit_of(i)
        masks = observed.masks
        for oid, kind in op.footprint(self.machine, t):
            if kind != ops.READ:
                mask |= masks.get(oid, 0)
        return mask

    def _run_check(self, name: str, check: Any) -> str | None:
        try:
            result: str | None = check(self.machine, self.state)
        except Exception as exc:  # any model failure is reported
            raise ModelError(
                _describe_exception(self.model, exc, f"in property {name}", self.schedule),
                list(self.schedule),
            ) from exc
        return result

    def _check_end(self) -> None:
        if self._enabled:
            if self.steps >= self.max_steps:
                self.violation = Found(
                    "termination",
                    f"the execution did not finish within {self.max_steps} steps: a retry "
                    f"loop may not terminate (raise --max-steps if the model is just long)",
                    self.steps,
                )
            return
        live = list(self.machine.live_threads())
        if live:
            self.violation = Found("deadlock", self._deadlock_message(live), self.steps)
            return
        for prop in self._finals:
            message = self._run_check(prop.name, prop.check)
            if message:
                self.violation = Found(prop.name, message, self.steps)
                return

    def _deadlock_message(self, live: list[Thread]) -> str:
        waits: dict[int, Thread | None] = {}
        reasons = []
        for t in live:
            why, on = self._why_blocked(t)
            waits[t.tid] = on
            reasons.append(f"{t.name} {why}")
        cycle = _find_cycle(waits, self.machine.threads)
        text = "no thread can move: " + "; ".join(reasons)
        if cycle:
            text += ". Cycle: " + " -> ".join(t.name for t in cycle)
        return text

    def _why_blocked(self, t: Thread) -> tuple[str, Thread | None]:
        m = self.machine
        op = t.pending
        cpu = t.cpu
        if not m.runnable(t) and cpu is not None:
            if cpu.handler is not None and cpu.handler is not t:
                return f"is interrupted on {cpu.name} by {cpu.handler.name}", cpu.handler
            return (f"is not running: {cpu.name}.curr is {_name(cpu.curr.value)}", None)
        if isinstance(op, ops.Acquire):
            holder = op.lock.holder
            return f"waits for {op.lock.name} held by {_name(holder)}", holder
        if isinstance(op, ops.Join):
            return f"waits for {op.thread.name} to finish", op.thread
        if isinstance(op, ops.IrqEnter) and cpu is not None:
            running = m.running_on(cpu)
            if cpu.handler is not None:
                return f"waits to enter {cpu.name}, busy with {cpu.handler.name}", cpu.handler
            return (f"waits to interrupt {cpu.name}, where {_name(running)} has IRQs "
                    f"or preemption off", running)  # fmt: skip
        if isinstance(op, ops.RcuGracePeriod):
            readers = [th for th in m.threads if th.rcu_depth]
            return "waits for a grace period", readers[0] if readers else None
        return f"cannot take its step {op.name if op else '?'}", None

    def _begin_event(self, t: Thread, op: ops.Op) -> Event:
        frames = _frames(t)
        model_frames = [f for f in frames if not f.f_code.co_filename.startswith(_ENGINE_DIR)]
        where = model_frames[-1] if model_frames else frames[-1]
        tgt = op.target()
        fp = op.footprint(self.machine, t)
        objects = self.machine.by_oid
        cite = self.model.cite
        return Event(
            step=self.steps + 1,
            tid=t.tid,
            thread=t.name,
            cpu=t.cpu.name if t.cpu is not None else None,
            op=op.name,
            text="",
            obj=tgt.name if tgt is not None else None,
            function=where.f_code.co_name,
            file=_relpath(where.f_code.co_filename),
            line=where.f_lineno,
            cite=None
            if cite is None
            else cite(
                self.config.variant, where.f_code.co_filename, where.f_lineno, where.f_code.co_name
            ),
            stack=[f.f_code.co_name for f in model_frames],
            irqs_off=t.irqs_off,
            in_irq=t.in_irq,
            footprint=[(objects[oid].name, _ACCESS_NAMES[a]) for oid, a in fp],
            preemption=self._is_preemption(t.tid),
        )

    def _is_preemption(self, tid: int) -> bool:
        last = self._last_tid
        return last is not None and last != tid and last in self._enabled

    def _finish_event(self, event: Event | None, t: Thread, op: ops.Op, result: Any) -> None:
        if event is None:
            return
        event.text = op.describe(result)
        event.value = None if result is None else describe(result)
        event.irqs_off = event.irqs_off or t.irqs_off
        event.in_irq = event.in_irq or t.in_irq
        self.events.append(event)


def count_preemptions(schedule: list[tuple[int, int]], enabled: list[list[int]]) -> int:
    """Context switches away from a thread that could have gone on."""
    count = 0
    for i in range(1, len(schedule)):
        prev = schedule[i - 1][0]
        if schedule[i][0] != prev and prev in enabled[i]:
            count += 1
    return count


def _frames(t: Thread) -> list[types.FrameType]:
    frames: list[types.FrameType] = []
    gen: Any = t.gen
    while gen is not None and getattr(gen, "gi_frame", None) is not None:
        frames.append(gen.gi_frame)
        gen = gen.gi_yieldfrom
    return frames


def _relpath(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _name(x: Any) -> str:
    return describe(x)


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


def _describe_exception(
    model: Model, exc: BaseException, where: str, schedule: list[tuple[int, int]]
) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if not f.filename.startswith(_ENGINE_DIR)]
    loc = frames[-1] if frames else (tb[-1] if tb else None)
    place = f"{_relpath(loc.filename)}:{loc.lineno} in {loc.name}" if loc else "unknown place"
    sched = ",".join(f"{t}" if b == 0 else f"{t}/{b}" for t, b in schedule)
    return (
        f"model {model.name} raised {type(exc).__name__}: {exc}\n"
        f"  at {place} ({where}), after {len(schedule)} steps\n"
        f"  schedule: [{sched}]\n"
        f"  This is a bug in the model, not a property violation; run with --debug "
        f"for the full traceback."
    )
