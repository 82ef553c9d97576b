"""Errors raised by ctxcheck.

One root, :class:`CtxcheckError`, and a family per cause. Every message names
what went wrong *and* what to do about it, because the reader is usually a
kernel developer looking at a model, not at ctxcheck's internals. The CLI
turns every :class:`CtxcheckError` into a one-paragraph message and exit
status 2; anything else escaping is a ctxcheck bug.

Violations found by the checker are *not* errors: they are results
(:class:`ctxcheck.result.Violation`). :class:`PropertyViolated` below is only
the internal signal a primitive or a property raises to stop an execution.
"""

from __future__ import annotations


class CtxcheckError(Exception):
    """Root of every error ctxcheck reports to a user (exit status 2)."""


class UsageError(CtxcheckError):
    """A bad option, an unknown model, variant, parameter or explorer."""


class ModelLoadError(CtxcheckError):
    """A model module could not be imported or does not declare a model."""


class ModelError(CtxcheckError):
    """Model code raised a Python exception outside any property.

    Carries the schedule that reached the failure so that it can be replayed.
    """

    def __init__(self, message: str, schedule: list[tuple[int, int]] | None = None) -> None:
        super().__init__(message)
        self.schedule = schedule or []


class NondeterministicModel(ModelError):
    """Replaying the same schedule did not give the same operations.

    A model must be a deterministic function of its schedule: no randomness,
    no reading of global mutable Python state, no iteration over sets of
    objects whose order changes between runs.
    """


class TraceFileError(CtxcheckError):
    """A trace file is unreadable, of another version, or no longer replays."""


class RenderError(CtxcheckError):
    """A picture could not be drawn: Graphviz's ``dot`` failed or ran out of memory."""


class OutputError(CtxcheckError):
    """A file ctxcheck was asked to write could not be written (disk full, gone, denied)."""


class PropertyViolated(Exception):
    """Internal signal: a primitive or an in-model assertion found a violation.

    Raised inside the runtime and turned into a :class:`Violation` result;
    never seen by users.
    """

    def __init__(self, prop: str, message: str) -> None:
        super().__init__(f"{prop}: {message}")
        self.prop = prop
        self.message = message
