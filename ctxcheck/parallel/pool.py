"""Worker processes on this machine (``--jobs N``), and what to do when one dies.

Each worker is a forked process with a pipe; it inherits the model, so
models defined anywhere (a test module, a file) can be split. A worker runs
one :class:`~ctxcheck.parallel.job.Job` at a time and sends its
:class:`~ctxcheck.parallel.job.JobResult` back. While it runs, the
coordinator can ask it for work (:meth:`LocalPool.split`, a message on the
same pipe that the job polls between runs); it answers with a
:class:`~ctxcheck.parallel.job.Donation` (:mod:`ctxcheck.parallel.handoff`),
from then on its job is the donation's narrower ``rest``. If a worker dies
(killed, out of memory), the pool starts another and gives it the dead
worker's job again (``rest``, if it had handed work back): nothing is lost,
the search stays exhaustive, and ``reruns`` counts it. Workers ignore
Ctrl-C: the coordinator stops them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import os
import signal
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any

from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.parallel.handoff import run_job
from ctxcheck.parallel.job import Donation, Job, JobResult

#: what the coordinator sends a busy worker: hand back part of job N
SPLIT = "split"
#: seconds between an idle worker's checks that its coordinator is alive
PARENT_POLL = 0.5

#: the model a forked worker runs (set before the fork, read in the child)
_WORK: tuple[Model, Config, Bounds] | None = None


class _PipeChannel:
    """A job's end of its worker's pipe (:class:`~ctxcheck.parallel.handoff.Channel`)."""

    def __init__(self, conn: Connection, parent: int) -> None:
        self.conn = conn
        self.parent = parent

    def orphaned(self) -> bool:
        """Whether the coordinator died (killed outright, it closed no pipe a sibling
        worker also holds: a worker forked later inherited this one's other end)."""
        return os.getppid() != self.parent

    def asked(self, number: int) -> bool:
        """Whether a request for job ``number``'s work came; the pool closing ends the worker."""
        if self.orphaned():  # nobody wants the answer
            raise SystemExit(0)
        asked = False
        while self.conn.poll():
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                message = None
            if message is None:  # the pool is closing (or gone): stop mid-job
                raise SystemExit(0)
            asked = asked or message == (SPLIT, number)  # others are for jobs that ended
        return asked

    def give(self, donation: Donation) -> None:
        self.conn.send(donation)


def _serve(conn: Connection) -> None:
    """A worker's loop: a job in, its result out, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert _WORK is not None
    model, config, bounds = _WORK
    channel = _PipeChannel(conn, os.getppid())
    while True:
        try:
            while not conn.poll(PARENT_POLL):
                if channel.orphaned():
                    return
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        if isinstance(job, Job):  # not a request for work that came after its job ended
            conn.send(run_job(model, config, bounds, job, channel))


class _Worker:
    __slots__ = ("conn", "job", "process")

    def __init__(self, ctx: Any) -> None:
        parent, child = mp.Pipe()
        self.process = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.conn: Connection = parent
        self.job: Job | None = None


class LocalPool:
    """``workers`` processes that run jobs, started on demand."""

    def __init__(self, model: Model, config: Config, bounds: Bounds, workers: int) -> None:
        global _WORK
        _WORK = (model, config, bounds)
        self._ctx = mp.get_context("fork")
        self._workers = [_Worker(self._ctx) for _ in range(max(1, workers))]
        self._queue: deque[Job] = deque()
        self.reruns = 0

    @property
    def pids(self) -> list[int]:
        """The workers' process ids (for tests that kill one)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def idle(self) -> int:
        """Workers with nothing to do, nothing being queued for them."""
        return 0 if self._queue else sum(w.job is None for w in self._workers)

    def split(self, number: int) -> None:
        """Ask the worker running job ``number`` to hand part of it back."""
        for w in self._workers:
            if w.job is not None and w.job.number == number:
                with contextlib.suppress(BrokenPipeError, OSError):
                    w.conn.send((SPLIT, number))

    def submit(self, job: Job) -> None:
        """Queue a job; an idle worker takes it."""
        self._queue.append(job)
        self._dispatch()

    def _dispatch(self) -> None:
        for w in self._workers:
            if w.job is None and self._queue:
                w.job = self._queue.popleft()
                try:
                    w.conn.send(w.job)
                except (BrokenPipeError, OSError):
                    self._revive(w)

    def _revive(self, w: _Worker) -> None:
        """``w`` died: start another worker in its place and queue its job again."""
        job = w.job
        w.conn.close()
        index = self._workers.index(w)
        self._workers[index] = _Worker(self._ctx)
        if job is not None:
            self.reruns += 1
            self._queue.appendleft(dataclasses.replace(job, rerun=True))

    def collect(self, timeout: float | None) -> list[JobResult | Donation]:
        """Results and donations that came within ``timeout`` seconds (None: wait for one)."""
        busy = [w for w in self._workers if w.job is not None]
        if not busy:
            return []
        waiting: dict[Any, _Worker] = {}
        for w in busy:
            waiting[w.conn] = w
            waiting[w.process.sentinel] = w
        out: list[JobResult | Donation] = []
        handled: set[int] = set()
        for ready in wait(list(waiting), timeout):
            w = waiting[ready]
            if w.job is None or id(w) in handled:
                continue
            handled.add(id(w))
            if ready is w.conn:
                try:
                    result = w.conn.recv()
                except (EOFError, OSError):
                    self._revive(w)
                    continue
                self._received(w, result)
                out.append(result)
            elif not w.conn.poll():
                self._revive(w)
        self._dispatch()
        return out

    @staticmethod
    def _received(w: _Worker, message: JobResult | Donation) -> None:
        """A result frees ``w``; a donation narrows its job to what it kept (and
        has reported: :attr:`~ctxcheck.parallel.job.Job.overlap`)."""
        if isinstance(message, Donation):
            w.job = message.rest
        else:
            w.job = None

    def close(self) -> None:
        """Stop every worker (politely, then not)."""
        for w in self._workers:
            with contextlib.suppress(BrokenPipeError, OSError):
                w.conn.send(None)
        for w in self._workers:
            w.process.join(timeout=1.0)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=1.0)


def cores() -> int:
    """How many processors this machine gives us (``--jobs 0``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
