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

import traceback
import types
from contextlib import suppress
from typing import Any

from ctxcheck.errors import ModelError, NondeterministicModel, PropertyViolated
from ctxcheck.events import ACCESS_NAMES, ENGINE_DIR, Event, Found, model_frames, relpath
from ctxcheck.kernel import Kernel, unyielded
from ctxcheck.lkmm.engine import DATA_RACE, WeakMemory
from ctxcheck.machine import Machine, ObjectIds, Thread
from ctxcheck.model import Config, Model, Property
from ctxcheck.observe import PropertyReads, reads_into
from ctxcheck.primitives.base import LOCKING, READ, RELEASE, Footprint, Op, describe
from ctxcheck.stuck import deadlock_message, termination_message

__all__ = ["MODEL_FAILURES", "Event", "Execution", "Found", "SearchState"]

#: what model code may raise that is its own failure: any exception, and a
#: ``sys.exit()`` (which would otherwise end ctxcheck itself with the model's
#: status and no word); not KeyboardInterrupt, which is the user's
MODEL_FAILURES: tuple[type[BaseException], ...] = (Exception, SystemExit)


class SearchState:
    """What the executions of one search share, and nothing else does.

    * object ids (:class:`~ctxcheck.machine.ObjectIds`): the same object has
      the same id in every execution of the search;
    * the record of what invariants read (:class:`~ctxcheck.observe.PropertyReads`):
      learnt across the search's executions, primed on the initial state.

    An explorer, the minimiser and the state walk each own one; nothing of it
    is global, so two searches can run side by side in one process.
    """

    def __init__(self, model: Model, config: Config, max_steps: int | None = None) -> None:
        self.model = model
        self.config = config
        self.max_steps = max_steps
        self.ids = ObjectIds()
        self.reads = PropertyReads()
        self._primed = False

    def execution(self, record: bool = False) -> Execution:
        """A fresh run of the model from its initial state, in this search."""
        return self.prime(Execution(self.model, self.config, self.max_steps, record, self))

    def prime(self, ex: Execution) -> Execution:
        """Before the first run, record what the invariants read on the initial state.

        So writes to those objects are visible from the very first step of
        every run: the footprint of a step must not depend on which runs came
        before it (DPOR's sleep and backtrack sets, and the wakeup trees,
        compare footprints of different runs). Their verdict there is ignored,
        as is any error they raise: the runtime checks them for real after
        each step and reports both.
        """
        if not self._primed:
            self._primed = True
            with reads_into(self.reads, ex.machine):
                for i, prop in enumerate(self.model.invariants()):
                    self.reads.judging(i)
                    with suppress(*MODEL_FAILURES):
                        prop.check(ex.machine, ex.state)
        return ex


class Execution:
    """One run of a model under a schedule chosen step by step."""

    #: judge every invariant after every writing step, not only those the
    #: step can change (see :meth:`_seen_by`); the tests' reference
    recheck_all = False

    def __init__(
        self,
        model: Model,
        config: Config,
        max_steps: int | None = None,
        record: bool = False,
        search: SearchState | None = None,
    ) -> None:
        if search is None:
            search = SearchState(model, config, max_steps)
        self.model = model
        self.config = config
        self.max_steps = max_steps if max_steps is not None else model.max_steps
        self.record = record
        self.events: list[Event] = []
        self.schedule: list[tuple[int, int]] = []
        self.violation: Found | None = None
        self.steps = 0
        #: switches away from a thread that could have gone on, so far
        self.preemptions = 0
        #: while True, steps re-run states an explorer already checked: invariants are
        #: not judged again (they were, in the same states, when first explored)
        self.replaying = False
        #: whether the invariants were judged in this run yet (see _seen_by)
        self._judged = False
        self.search = search
        self.machine = Machine(ids=search.ids)
        #: under lkmm: the execution graph, and whether the LKMM forbids the run
        self.weak: WeakMemory | None = None
        self.inconsistent = False
        if config.memory_model == "lkmm":
            self.weak = self.machine.weak = WeakMemory()
        self._invariants = model.invariants()
        self._finals = [p for p in model.properties if p.final]
        self._on_return = model.result_properties()
        #: which invariants have read which objects (see ctxcheck.observe): the search's
        self.observed = search.reads
        #: quiescent invariants watch IRQ/lock state: its changes are visible to them
        self._quiescent = [i for i, p in enumerate(self._invariants) if p.quiescent]
        self._last_tid: int | None = None
        #: steps in a row, up to now, that changed nothing (loads), and their threads
        self._idle = 0
        self._idle_tids: set[int] = set()
        try:
            self.state = model.setup(self.machine, config)
        except PropertyViolated as v:
            raise ModelError(f"model {model.name}: setup raised {v}") from v
        except MODEL_FAILURES as exc:  # any model failure is reported
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

    @property
    def last_tid(self) -> int | None:
        """The thread that took the last step (None before the first)."""
        return self._last_tid

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

    def footprint(self, tid: int, own: Footprint | None = None) -> Footprint:
        """Objects the next step of ``tid`` touches (``own``: its operation's, if known)."""
        t = self.machine.threads[tid]
        if own is None:
            op = t.pending
            assert op is not None
            own = op.footprint(self.machine, t)
        if t.cpu is not None and not t.irq:
            return (*own, (t.done.oid, RELEASE), (t.cpu.exec.oid, READ))
        return (*own, (t.done.oid, RELEASE))

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
        if t.irq and not t.in_irq and not op.enters_irq:
            raise ModelError(
                f"model {self.model.name}: interrupt thread {t.name} must start with "
                f"`yield k.irq_enter()` before {op.name}",
                list(self.schedule),
            )
        preempts = self.is_preemption(tid)
        event = self._begin_event(t, op, preempts) if self.record else None
        self.preemptions += preempts
        m.step = self.steps + 1  # 1-based, as the trace numbers steps
        self.schedule.append((tid, branch))
        self.steps += 1
        self._last_tid = tid
        m.creator = t
        judge = op.writes and self._invariants and not self.replaying
        seen = self._seen_by(tid, op) if judge else 0
        weak = self.weak
        if weak is not None:
            weak.step, weak.note = m.step, ""
        try:
            result = op.run(m, t, branch)
            if weak is not None:
                op.lkmm(weak, t, result)
        except PropertyViolated as v:
            m.creator = None
            self._finish_event(event, t, op, None)
            self.violation = Found(v.prop, v.message, self.steps)
            self._settle()
            return
        if event is not None:
            self._finish_event(event, t, op, result)
        if op.writes:
            self._idle = 0
            self._idle_tids.clear()
        else:
            self._idle += 1
            self._idle_tids.add(tid)
        self._advance(t, result)
        m.creator = None
        if self.violation is not None:
            self._settle()
            return
        if m.unstarted:
            self._start_new_threads()
            seen = -1  # what an invariant iterates over (the threads) changed
        elif t.finished:
            seen = -1
        if judge and seen and self.violation is None:
            self._check_invariants(seen)
        enabled = self._enabled = self._compute_enabled()
        # _check_end's and _settle's early returns, tested here: every step passes them
        if (
            self.violation is None
            and not self.replaying
            and (not enabled or self.steps >= self.max_steps)
        ):
            self._check_end()
        if self.weak is not None:
            self._settle()

    def _settle(self) -> None:
        """Under lkmm, a run that ends (or breaks a property) is judged by the LKMM.

        A graph the model forbids is no execution of the program: its
        violation, if any, is dropped and the run ends here. An allowed one
        that finished is checked for data races between plain accesses.
        """
        weak = self.weak
        if weak is None or not self.finished or self.inconsistent:
            return
        judgement = weak.settle()
        if not judgement.consistent:
            self.inconsistent = True
            self.violation = None
            self._enabled = []
        elif self.violation is None and judgement.races:
            self.violation = Found(DATA_RACE, weak.race_message(judgement), self.steps)

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
            self._check_built(t, None)
            self._thread_done(t, stop.value)
            return
        except PropertyViolated as v:
            self.violation = Found(v.prop, v.message, self.steps)
            return
        except MODEL_FAILURES as exc:  # any model failure is reported
            raise ModelError(
                _describe_exception(self.model, exc, f"in thread {t.name}", self.schedule),
                list(self.schedule),
            ) from exc
        self._check_built(t, nxt)
        op = self._check_op(t, nxt)
        if op.inline:  # a barrier: no scheduling point, performed right here
            self._advance(t, op.run(self.machine, t, 0))
            return
        t.pending = op

    def _check_built(self, t: Thread, yielded: Any) -> None:
        """A step or helper the thread built and dropped is a bug of the model."""
        if t.built:
            dropped = unyielded(t.built, yielded)
            if dropped is not None:
                raise ModelError(
                    f"model {self.model.name}: thread {t.name}: {dropped}", list(self.schedule)
                )

    def _check_op(self, t: Thread, value: Any) -> Op:
        if isinstance(value, Op):
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
        if self.weak is not None:
            self.weak.finished(t)
        if t.held:
            self.violation = Found(
                LOCKING, f"{t.name} finished holding {t.held[0].name}", self.steps
            )
            return
        for prop in self._on_return:
            message = self._check_result(prop, t)
            if message:
                self.violation = Found(prop.name, message, self.steps)
                return

    def _check_result(self, prop: Property, t: Thread) -> str | None:
        """Judge ``t``'s result by ``prop``; it may read no shared memory (that is not decided)."""
        check = prop.on_return
        assert check is not None
        read = PropertyReads()
        with reads_into(read, self.machine):
            message = self._run_check(prop.name, lambda m, s: check(t.name, t.result))
        if read.masks:
            raise ModelError(
                f"model {self.model.name}: property {prop.name} read shared memory while "
                f"judging what {t.name} returned; a Property.returns check sees only the "
                f"returned value, because memory may still change after the thread returns "
                f"(return the values themselves, or make it a final property)",
                list(self.schedule),
            )
        return message

    def _start_new_threads(self) -> None:
        m = self.machine
        while m.unstarted:
            thread, func, args = m.unstarted.pop(0)
            m.creator = thread
            try:
                gen = func(Kernel(thread), *args)
                thread.gen = gen
                first = next(gen)
            except StopIteration as stop:
                self._check_built(thread, None)
                self._thread_done(thread, stop.value)
                continue
            except PropertyViolated as v:
                self.violation = Found(v.prop, v.message, self.steps)
                return
            except MODEL_FAILURES as exc:  # any model failure is reported
                raise ModelError(
                    _describe_exception(self.model, exc, f"starting {thread.name}", self.schedule),
                    list(self.schedule),
                ) from exc
            finally:
                m.creator = None
            self._check_built(thread, first)
            op = self._check_op(thread, first)
            if op.inline:  # a barrier first: performed at once, as in _advance
                self._advance(thread, op.run(m, thread, 0))
            else:
                thread.pending = op

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

    def _seen_by(self, tid: int, op: Op) -> int:
        """Which invariants (parts) the step of ``tid`` can change: a bit mask, -1 all.

        An invariant is a function of what it reads, and its reads are noted
        (:mod:`ctxcheck.observe`): if no object it read when it was last
        judged is written, it reads the same values again and gives the same
        answer, so it is not run again. A step that changes what an
        invariant may iterate over, the heap (``kmalloc``) or the threads
        (one starts or finishes), is seen by all, and so is an assertion
        point (``k.judge``), whose finding the thread may record in plain
        model state for a property. This is the assumption
        the partial-order reduction already makes (``visible``); every
        explorer's verdicts are held to a run without it (``recheck_all``).
        """
        if (
            self.recheck_all
            or not self._judged  # the first judgement of a run is of every invariant
            or op.grows_heap
            or op.creates_thread
            or op.feeds_properties
        ):
            return -1
        return self.visible(tid)

    def _check_invariants(self, seen: int) -> None:
        m = self.machine
        quiet: bool | None = None
        observed = self.observed
        props = observed.props
        self._judged = True
        with reads_into(observed, m):
            for i, prop in enumerate(self._invariants):
                if seen != -1 and not seen & props.get(i, 0):
                    continue
                observed.judging(i, seen)
                if prop.quiescent:
                    if quiet is None:
                        quiet = m.quiescent()
                    if not quiet:
                        continue
                message = self._run_check(prop.name, prop.check)
                if message:
                    self.violation = Found(prop.name, message, self.steps)
                    return

    def visible(self, tid: int, own: Footprint | None = None) -> int:
        """Which invariants could the next step of ``tid`` change? A bit mask.

        A bit is set for each invariant (or part of one, see
        :func:`ctxcheck.observe.part`) that has read an object the step
        writes, and for each quiescent invariant when the step changes IRQ,
        preemption or lock state. 0: invisible. Explorers order two steps
        visible to one invariant (part). ``own``: the operation's footprint,
        when the caller has it already (it is the hot path of the explorers).
        """
        t = self.machine.threads[tid]
        op = t.pending
        if op is None or not op.writes or not self._invariants:
            return 0
        observed = self.observed
        mask = 0
        if self._quiescent and op.quiescence:
            for i in self._quiescent:
                mask |= observed.bit_of(i)
        masks = observed.masks
        for oid, kind in op.footprint(self.machine, t) if own is None else own:
            if kind != READ:
                mask |= masks.get(oid, 0)
        return mask

    def _run_check(self, name: str, check: Any) -> str | None:
        try:
            result: str | None = check(self.machine, self.state)
        except MODEL_FAILURES as exc:  # any model failure is reported
            raise ModelError(
                _describe_exception(self.model, exc, f"in property {name}", self.schedule),
                list(self.schedule),
            ) from exc
        return result

    def _check_end(self) -> None:
        if self._enabled:
            if self.steps >= self.max_steps:
                idle = [self.machine.threads[t].name for t in sorted(self._idle_tids)]
                why = termination_message(self.max_steps, self._idle, idle)
                self.violation = Found("termination", why, self.steps)
            return
        live = list(self.machine.live_threads())
        if live:
            self.violation = Found("deadlock", deadlock_message(self.machine, live), self.steps)
            return
        for prop in self._finals:
            message = self._run_check(prop.name, prop.check)
            if message:
                self.violation = Found(prop.name, message, self.steps)
                return

    def _begin_event(self, t: Thread, op: Op, preemption: bool) -> Event:
        where, own = model_frames(t)
        tgt = op.target()
        fp = op.footprint(self.machine, t)
        objects = self.machine.by_oid
        return Event(
            step=self.steps + 1,
            tid=t.tid,
            thread=t.name,
            cpu=t.cpu.name if t.cpu is not None else None,
            op=op.name,
            text="",
            obj=tgt.name if tgt is not None else None,
            function=where.f_code.co_name,
            file=relpath(where.f_code.co_filename),
            line=where.f_lineno,
            cite=self._cite(where),
            stack=[f.f_code.co_name for f in own],
            irqs_off=t._irqs_off,
            in_irq=t.in_irq,
            footprint=[(objects[oid].name, ACCESS_NAMES[a]) for oid, a in fp],
            preemption=preemption,
        )

    def _cite(self, where: types.FrameType) -> Any:
        cite = self.model.cite
        if cite is None:
            return None
        code = where.f_code
        return cite(self.config.variant, code.co_filename, where.f_lineno, code.co_name)

    def is_preemption(self, tid: int) -> bool:
        """Would a step of ``tid`` now switch away from a thread that could go on?

        The one definition of a preemption: every explorer, the minimiser and
        the trace count it through here.
        """
        last = self._last_tid
        return last is not None and last != tid and last in self._enabled

    def _finish_event(self, event: Event | None, t: Thread, op: Op, result: Any) -> None:
        if event is None:
            return
        event.text = op.describe(result)
        if self.weak is not None and self.weak.note:
            event.text += f"  [{self.weak.note}]"
        event.value = None if result is None else describe(result)
        event.irqs_off = event.irqs_off or t._irqs_off
        event.in_irq = event.in_irq or t.in_irq
        self.events.append(event)


def _describe_exception(
    model: Model, exc: BaseException, where: str, schedule: list[tuple[int, int]]
) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if not f.filename.startswith(ENGINE_DIR)]
    loc = frames[-1] if frames else (tb[-1] if tb else None)
    place = f"{relpath(loc.filename)}:{loc.lineno} in {loc.name}" if loc else "unknown place"
    sched = ",".join(f"{t}" if b == 0 else f"{t}/{b}" for t, b in schedule)
    return (
        f"model {model.name} raised {type(exc).__name__}: {exc}\n"
        f"  at {place} ({where}), after {len(schedule)} steps\n"
        f"  schedule: [{sched}]\n"
        f"  This is a bug in the model, not a property violation; run with --debug "
        f"for the full traceback."
    )
