"""The wall clock of one check: ``--timeout`` ends it, even inside a step that never returns.

``--timeout S`` is the budget of the whole check: the search, then the
minimisation of what it found. Both look at the clock between steps
(:meth:`Explorer.out_of_budget <ctxcheck.explorers.base.Explorer.out_of_budget>`,
the minimiser's work count). A step of a model that never returns (a Python
loop that does not yield) never reaches such a look; the :class:`Watchdog`
ends it. On the main thread of a platform with ``setitimer`` it raises
:class:`Overrun` there once the deadline, plus :data:`GRACE`, has passed.
Elsewhere (another thread, Windows, a real-time timer already in use by
someone else) it does nothing, and Ctrl-C remains the way out.
"""

from __future__ import annotations

import signal
import threading
import time
import types
from typing import Any

from ctxcheck.events import ENGINE_DIR, relpath

#: seconds past the deadline before the watchdog ends a step that has not come back
GRACE = 0.5


class Overrun(BaseException):
    """The deadline passed while a step was still running.

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so that the
    runtime's handling of model exceptions (``except Exception``) lets it
    through to whoever armed the watchdog.
    """

    def __init__(self, where: str) -> None:
        super().__init__(where)
        #: the model code that was running (``file:line in function``), or ""
        self.where = where


def _usable() -> bool:
    if not hasattr(signal, "setitimer"):  # Windows
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    return signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # nobody else's timer


def _model_place(frame: types.FrameType | None) -> str:
    """The innermost frame outside ctxcheck, as ``file:line in function``."""
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(ENGINE_DIR):
            return f"{relpath(code.co_filename)}:{frame.f_lineno} in {code.co_name}"
        frame = frame.f_back
    return ""


class Watchdog:
    """Within the block, raise :class:`Overrun` once ``time.monotonic()`` passes ``until``.

    The block ends there: the ``with`` statement swallows its own
    :class:`Overrun` and keeps it in :attr:`fired`. ``until`` None: no
    watchdog.
    """

    def __init__(self, until: float | None) -> None:
        self.until = until
        #: the Overrun that ended the block, if one did
        self.fired: Overrun | None = None
        self._armed = False
        self._saved: Any = None

    def __enter__(self) -> Watchdog:
        if self.until is None or not _usable():
            return self
        self._saved = signal.signal(signal.SIGALRM, self._alarm)
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, max(self.until - time.monotonic(), 0.001))
        return self

    def _alarm(self, signum: int, frame: types.FrameType | None) -> None:
        if self._armed:
            self._armed = False
            raise Overrun(_model_place(frame))

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        self._armed = False  # first: an alarm from now on does nothing
        if self._saved is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._saved)
            self._saved = None
            if isinstance(exc, Overrun):
                self.fired = exc
                return True
        return False


def overrun_text(timeout: float | None, fired: Overrun) -> str:
    """Why a search stopped when the watchdog ended it (starts ``timeout=``, like any cut)."""
    where = f" at {fired.where}" if fired.where else ""
    return (
        f"timeout={timeout}s; a step of the model was still running{where} (a loop that "
        f"never yields?)"
    )
