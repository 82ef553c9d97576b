"""Timing: whole processes (``ctxcheck check`` start to exit, what it imports), and
when a measurement must stop the run.

A reviewer runs ``ctxcheck check`` dozens of times, so its cost as a
process matters as much as the search: interpreter start, imports (the
check path should import none of the heavy libraries other commands use),
then the check. Each is measured in a subprocess.

An explorer answers Ctrl-C by ending its search with what it has
("interrupted"), which is right for one check but would let a benchmark go
on to its next measurement; :func:`stop_if_interrupted` turns it back into
the interrupt, so Ctrl-C stops the whole run (its finished sections kept).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

#: libraries the ``check`` path must not import (they serve other commands)
HEAVY = ("networkx", "hypothesis", "graphviz", "rich", "pytest", "jsonschema")
#: the model ``check`` is timed on
WALL_TARGET = ("examples.lost_update", "--variant", "atomic")


def _command() -> list[str]:
    exe = shutil.which("ctxcheck")
    return [exe] if exe else [sys.executable, "-m", "ctxcheck.cli"]


def wall_times(runs: int) -> list[float]:
    """Seconds of whole ``ctxcheck check`` runs, start to exit."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*_command(), "check", *WALL_TARGET], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def python_startup(runs: int) -> float:
    """Median seconds of ``python -c pass``: the floor under any command."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def imports_on_check_path() -> tuple[list[str], float]:
    """Top-level modules ``check`` imports, and the cumulative import time of ctxcheck (s)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ctxcheck.cli", "check", *WALL_TARGET],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    names: set[str] = set()
    ctxcheck_us = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        module = parts[2]
        names.add(module.split(".")[0])
        if module == "ctxcheck":
            ctxcheck_us = int(parts[1])
    return sorted(names), ctxcheck_us / 1e6


def stop_if_interrupted(stopped: str | None) -> None:
    """Raise KeyboardInterrupt again if a measured search was stopped by Ctrl-C."""
    if stopped == "interrupted":
        raise KeyboardInterrupt
