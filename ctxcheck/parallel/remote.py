"""A job's side of a Dask cluster: a task runs a job, and hears and answers requests for work.

The coordinator and a running task share no pipe, so they meet at the
scheduler, through Dask's coordination primitives, named per search
(:class:`Names`: two searches on one cluster never cross):

- the coordinator asks job N for work by setting the ``Event`` ``ask-N``;
  the task looks (:meth:`DaskChannel.asked`, a scheduler round trip) at most
  every :data:`ASK_POLL` seconds between two runs, and clears it when it
  sees it, so that the next request can be heard;
- the task hands its :class:`~ctxcheck.parallel.job.Donation` over on the
  search's ``Queue`` (pickled: a queue holds plain data), tagged with the
  name of the attempt that gives it; ``put`` returns once the scheduler holds
  it, so a donation is queued before its task's result reaches anyone;
- each attempt (a submission of a job) has an ``Event`` of its own, set when
  the task starts: a scheduler that retries a task by itself after its
  worker died (``allowed-failures``) would run the *original* job again,
  states it handed away included, so a task that finds its attempt already
  started does nothing and returns None, and the coordinator submits the job
  as it now is (its ``rest``, if it gave work away) instead.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ctxcheck.loader import load_model
from ctxcheck.model import Config, Model
from ctxcheck.options import Bounds
from ctxcheck.parallel.handoff import run_job
from ctxcheck.parallel.job import Donation, Job, JobResult

#: seconds between a running task's looks at whether it is asked for work (each is a
#: scheduler round trip; the coordinator asks only jobs out for 0.25 s, ``HANDOFF_AFTER``)
ASK_POLL = 0.2

#: what a worker needs to rebuild the search: model target, variant, params, bounds
Spec = tuple[str, str, tuple[tuple[str, int], ...], Bounds]


@dataclass(frozen=True)
class Names:
    """The scheduler-side names of one search's events and queue (``prefix`` is unique)."""

    prefix: str

    def ask(self, number: int) -> str:
        """The event the coordinator sets to ask job ``number`` for work."""
        return f"{self.prefix}-ask-{number}"

    def attempt(self, serial: int) -> str:
        """The event a task sets when it starts: the ``serial``-th submission of the search."""
        return f"{self.prefix}-run-{serial}"

    @property
    def given(self) -> str:
        """The queue donations come back on."""
        return f"{self.prefix}-given"


def encode(attempt: str, donation: Donation) -> tuple[str, bytes]:
    """A donation as a queue item: who gives it, and the donation."""
    return attempt, pickle.dumps(donation)


def decode(item: tuple[str, bytes] | list[object]) -> tuple[str, Donation]:
    """The (attempt, donation) of a queue item (msgpack turns the tuple into a list)."""
    attempt, data = item
    assert isinstance(attempt, str) and isinstance(data, bytes)
    donation = pickle.loads(data)
    assert isinstance(donation, Donation)
    return attempt, donation


def _dask() -> Any:
    """Dask distributed, in a worker (where it is installed: it runs the worker)."""
    import distributed

    return distributed


class DaskChannel:
    """A task's :class:`~ctxcheck.parallel.handoff.Channel`: events and a queue at the scheduler."""

    def __init__(self, names: Names, attempt: str) -> None:
        self.names = names
        self.attempt = attempt
        self._next_look = time.monotonic() + ASK_POLL

    def asked(self, number: int) -> bool:
        """Whether job ``number`` is asked for work (looked up at most every ``ASK_POLL`` s)."""
        now = time.monotonic()
        if now < self._next_look:
            return False
        self._next_look = now + ASK_POLL
        event = _dask().Event(self.names.ask(number))
        if not event.is_set():
            return False
        event.clear()  # heard: the scheduler forgets it, and a later request is news
        return True

    def give(self, donation: Donation) -> None:
        """Queue ``donation``; the queue is let go of at once (see :func:`give`)."""
        give(self.names.given, encode(self.attempt, donation))


def give(queue: str, item: tuple[str, bytes]) -> None:
    """Put ``item`` on ``queue`` and release this task's hold on it.

    A ``Queue`` lives at the scheduler while anyone holds it: each
    donation takes a hold and lets go, so that only the coordinator's keeps
    it, and it is gone when the coordinator closes (a task still running
    then, which a scheduler cannot stop, makes one that is gone as soon).
    """
    handle = _dask().Queue(queue)
    try:
        handle.put(item)
    finally:
        handle.close()


def started_before(attempt: str) -> bool:
    """Whether this attempt has started before (the scheduler retries it); marks it started."""
    event = _dask().Event(attempt)
    if event.is_set():
        return True
    event.set()
    return False


@lru_cache(maxsize=8)
def _model_of(target: str) -> Model:
    return load_model(target)


def run_remote(spec: Spec, job: Job, names: Names, attempt: str) -> JobResult | None:
    """Run ``job`` in a Dask worker (the model loaded once per process).

    None: this attempt had started before, on a worker that died (see the
    module docstring); the coordinator submits the job again itself.
    """
    if started_before(attempt):
        return None
    target, variant, params, bounds = spec
    model = _model_of(target)
    return run_job(model, Config(variant, dict(params)), bounds, job, DaskChannel(names, attempt))
