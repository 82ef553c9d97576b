"""The error a litmus file gets when it cannot be read, parsed or run."""

from __future__ import annotations

from ctxcheck.errors import CtxcheckError


class LitmusError(CtxcheckError):
    """A problem in a litmus file, with the file and line it is at."""

    def __init__(self, message: str, *, path: str = "", line: int = 0) -> None:
        self.path = path
        self.line = line
        self.bare = message
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")

    def at(self, path: str) -> LitmusError:
        """The same error, naming the file."""
        return LitmusError(self.bare, path=path, line=self.line)
