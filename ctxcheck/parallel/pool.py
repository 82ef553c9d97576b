"""Worker processes on this machine (``--jobs N``), and what to do when one dies.

Each worker is a forked process with a pipe; it inherits the model, so
models defined anywhere (a test module, a file) can be split. A worker runs
one :class:`~ctxcheck.parallel.job.Job` at a time and sends its
:class:`~ctxcheck.parallel.job.JobResult` back. If a worker dies (killed,
out of memory), the pool starts another and gives it the dead worker's job
again: nothing is lost, the search stays exhaustive, and ``reruns`` counts
it. Workers ignore Ctrl-C: the coordinator stops them.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any

from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.parallel.job import Job, JobResult, run_job

#: the model a forked worker runs (set before the fork, read in the child)
_WORK: tuple[Model, Config, Bounds] | None = None


def _serve(conn: Connection) -> None:
    """A worker's loop: a job in, its result out, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert _WORK is not None
    model, config, bounds = _WORK
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(run_job(model, config, bounds, job))


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
            self._queue.appendleft(job)

    def collect(self, timeout: float | None) -> list[JobResult]:
        """Results that came back within ``timeout`` seconds (None: wait for one)."""
        busy = [w for w in self._workers if w.job is not None]
        if not busy:
            return []
        waiting: dict[Any, _Worker] = {}
        for w in busy:
            waiting[w.conn] = w
            waiting[w.process.sentinel] = w
        out: list[JobResult] = []
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
                w.job = None
                out.append(result)
            elif not w.conn.poll():
                self._revive(w)
        self._dispatch()
        return out

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
