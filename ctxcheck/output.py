"""Writing the user's files: checked before the work, written so a failure loses nothing.

Every command that writes a file (``render -o``, ``check --trace-out``,
``prove -o``, ``bench -o``, ``new``) goes through here, for two rules:

* an output path is checked before any work is done: its directory must
  exist and be a directory, a name must fit the file system, and an
  existing file is never replaced unless the user asked (``--force``);
  each problem is a :class:`~ctxcheck.errors.UsageError` naming the option
  and the path, so a one-hour run cannot end in a traceback;
* a regular file is written to a temporary file beside it and renamed into
  place, so a full disk or a vanished directory leaves the old file as it
  was; a device (``/dev/stdout``) is written directly. A failed write is an
  :class:`~ctxcheck.errors.OutputError` naming the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Collection
from pathlib import Path

from ctxcheck.errors import OutputError, UsageError

#: the longest file name (bytes) and path a Linux file system takes
NAME_MAX, PATH_MAX = 255, 4096


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def path_problem(path: str) -> str:
    """Why the file system cannot take ``path`` at all ('' when it can)."""
    if not path:
        return "'': the path is empty"
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        return f"{_short(path)!r}: the path holds a NUL byte"
    if len(encoded) > PATH_MAX:
        return f"{_short(path)}: the path is longer than {PATH_MAX} bytes"
    for part in encoded.split(b"/"):
        if len(part) > NAME_MAX:
            return (
                f"{_short(path)}: the name {_short(os.fsdecode(part), 40)!r} is "
                f"{len(part)} bytes, longer than the {NAME_MAX} a file system takes"
            )
    return ""


def _stat(path: Path, option: str) -> os.stat_result | None:
    """``os.stat`` of an output path, or None when nothing is there yet."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise UsageError(f"{option} {path}: {_file_in(path)} is a file, not a directory") from None
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror or exc}") from None


def _file_in(path: Path) -> Path:
    """The first part of ``path`` that is a file where a directory should be."""
    for part in reversed(path.parents):
        if part.is_file():
            return part
    return path.parent


def _check_parent(path: Path, option: str) -> None:
    parent = path.parent
    info = _stat(parent, option)
    if info is None:
        raise UsageError(f"{option} {path}: the directory {parent} does not exist")
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{option} {path}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write into {parent} (permission denied)")


def check_output_file(
    path: str, option: str, force: bool = False, regular_only: bool = False
) -> Path:
    """Check that ``path`` can be written as ``option``'s file; raise a usage error if not.

    An existing regular file is refused unless ``force``; a directory always;
    a device or pipe unless ``regular_only`` (``bench -o`` must read what it
    merges into).
    """
    problem = path_problem(path)
    if problem:
        raise UsageError(f"{option} {problem}")
    out = Path(path)
    info = _stat(out, option)
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{option} {path} is a directory; give the name of a file to write")
        if stat.S_ISREG(info.st_mode):
            if not force:
                raise UsageError(f"{option} {path} exists; pass --force to overwrite it")
        elif regular_only:
            raise UsageError(f"{option} {path} is not a regular file (a device or a pipe?)")
    _check_parent(out, option)
    return out


def check_output_dir(path: str, option: str, owned: Collection[str]) -> Path:
    """Check that ``path`` can be the output directory of a command that writes ``owned``.

    The directory may be new (its parent must exist), empty, or hold only
    entries named in ``owned`` (what an earlier run of the same command
    wrote); anything else in it is somebody's work, and is refused.
    """
    problem = path_problem(path)
    if problem:
        raise UsageError(f"{option} {problem}")
    out = Path(path)
    info = _stat(out, option)
    if info is None:
        _check_parent(out, option)
        return out
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{option} {path} is not a directory")
    try:
        foreign = sorted(e.name for e in out.iterdir() if e.name not in owned)
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror or exc}") from None
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise UsageError(
            f"{option} {path} holds files this command did not write ({shown}); give a new "
            f"or empty directory, or the directory of an earlier run"
        )
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write into it (permission denied)")
    return out


def make_dir(path: Path, what: str) -> None:
    """``mkdir -p``, with a failure an :class:`OutputError` naming the directory."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {what} {path}: {exc.strerror or exc}") from None


def write_output(path: Path, data: str | bytes, what: str) -> None:
    """Write ``data`` to ``path``: atomically for a regular file, directly for a device.

    Text is UTF-8; a character UTF-8 cannot hold (a lone surrogate from a
    damaged trace) is written as its escape.
    """
    raw = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    try:
        target = Path(os.path.realpath(path))
        info = os.stat(target) if target.exists() else None
    except OSError as exc:
        raise OutputError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_device(target, raw, what, path)
    else:
        _write_atomic(target, raw, what, path, info)


def _write_device(target: Path, raw: bytes, what: str, shown: Path) -> None:
    try:
        with open(target, "wb") as f:
            f.write(raw)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {shown}: {exc.strerror or exc}") from None


def _write_atomic(
    target: Path, raw: bytes, what: str, shown: Path, old: os.stat_result | None
) -> None:
    tmp = target.parent / f".ctxcheck-{os.getpid()}-{id(raw):x}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        if old is not None:
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"cannot write {what} {shown}: {exc.strerror or exc}") from None
