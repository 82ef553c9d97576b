"""``ctxcheck bench --spin``: SPIN and ctxcheck on the same race, N = 2..8 openers, one table.

Issue 14 measures ctxcheck against SPIN, the checker a kernel developer
could pick instead, on ``ctx_create`` written at the granularity of the
team's Promela model ``shared/spin/ctx_create.pml`` (a copy ships in
``ctxcheck/bench/promela/``); this section makes that
measurement one command. For each number of openers N it runs, end to end:

* SPIN, when ``spin`` and ``gcc`` are on PATH (it installs nothing: the
  Debian package ``spin`` is the one to install): ``spin -DPOST -DN=n -a``,
  ``gcc -O2 -DSAFETY -DMEMLIM=...`` and ``./pan``, the README's commands
  beside the .pml, and reads the states stored, pan's memory and verdict;
* ``ctxcheck check spin.ctx_create --variant post`` (the model of the same
  steps, :mod:`models.spin.ctx_create`) under each exhaustive explorer, as
  a process, so its seconds include the interpreter's start as SPIN's
  include gcc.

Each run is cut at a cap (``--spin-cap``, 300 s by default); a tool that
was cut, or for SPIN ran out of memory, is not run at larger N (it can only
need more). ``MEMLIM`` keeps pan well under the machine's memory, which is
shared: at most :data:`MEMLIM_MAX_MB` and two thirds of the RAM.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ctxcheck.bench.markdown import num, table
from ctxcheck.errors import UsageError

#: the ctxcheck model at the .pml's granularity, and the variant measured
TARGET = "spin.ctx_create"
VARIANT = "post"
#: the Promela model, and the folder it is looked for in by default: a copy,
#: shipped with the package, of the project's shared/spin/ctx_create.pml (the
#: team's model, kept here so that the bench and its tests run from a clone
#: or an installed wheel; --spin-models names another folder)
PML = "ctx_create.pml"
SHARED_SPIN = Path(__file__).resolve().parent / "promela"
#: ctxcheck's explorers in the table: the exhaustive ones that can finish
#: (naive runs one execution per interleaving: 1,130 at two openers)
EXPLORERS = ("dpor", "odpor", "bfs")
#: pan's memory limit never goes above this (MB), whatever the machine
MEMLIM_MAX_MB = 16000
#: pan's depth bound: the README's, which preallocates ~534 MB of stack
PAN_DEPTH = 10_000_000
#: seconds a ctxcheck process may run past its --timeout before it is killed
GRACE = 60.0
INSTALL_HINT = (
    "SPIN is not installed here (`spin` and `gcc` must be on PATH): "
    "`apt-get install spin` installs it (Debian and Ubuntu; gcc comes with build-essential)"
)
OPENERS_SYNTAX = "A..B with 1 <= A <= B <= 8, e.g. 2..8"


def memlim_max() -> int:
    """The largest MEMLIM allowed here: :data:`MEMLIM_MAX_MB`, and 2/3 of the RAM."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return min(MEMLIM_MAX_MB, int(line.split()[1]) * 2 // 3 // 1024)
    except (OSError, ValueError, IndexError):
        pass
    return MEMLIM_MAX_MB


@dataclass(frozen=True)
class SpinSettings:
    """What ``--spin`` measures: the openers, the cap, pan's memory, where the .pml is."""

    first: int = 2
    last: int = 8
    cap: float = 300.0
    memlim: int = MEMLIM_MAX_MB
    models: Path = SHARED_SPIN
    explorers: tuple[str, ...] = EXPLORERS

    @property
    def pml(self) -> Path:
        return self.models / PML

    def argv(self) -> list[str]:
        """The options that reproduce these settings, for the table's provenance."""
        return ["--spin", "--spin-openers", f"{self.first}..{self.last}", "--spin-cap",
                f"{self.cap:g}", "--spin-memlim", str(self.memlim)]  # fmt: skip


def spin_settings(
    openers: str = "2..8",
    cap: float = 300.0,
    memlim: int | None = None,
    models: str | None = None,
) -> SpinSettings:
    """Check the ``--spin-*`` options before anything runs; a bad one is a usage error."""
    low, sep, high = openers.partition("..")
    if not (sep and low.strip().isdigit() and high.strip().isdigit()):
        raise UsageError(f"--spin-openers {openers!r}: expected {OPENERS_SYNTAX}")
    first, last = int(low), int(high)
    if not 1 <= first <= last <= 8:
        raise UsageError(f"--spin-openers {openers!r}: expected {OPENERS_SYNTAX}")
    top = memlim_max()
    if memlim is not None and not 1 <= memlim <= top:
        raise UsageError(f"--spin-memlim {memlim}: give 1..{top} MB (at most 2/3 of the RAM)")
    folder = SHARED_SPIN if models is None else Path(models)
    if models is not None and not (folder / PML).is_file():
        raise UsageError(f"--spin-models {models}: there is no {PML} in it")
    return SpinSettings(first, last, cap, top if memlim is None else memlim, folder)


# ------------------------------------------------------------------ SPIN


@dataclass(frozen=True)
class PanResult:
    """What pan printed: states stored, its own seconds and memory, and its verdict."""

    verdict: str
    states: int | None = None
    seconds: float | None = None
    memory_mb: float | None = None
    #: out of memory or otherwise incomplete: a larger N can only fail too
    failed: bool = False


#: a number as pan prints it: counts past its integer format come as ``1.28e+08``
NUMBER = r"(\d+(?:\.\d*)?(?:e[+-]?\d+)?)"


def _number(pattern: str, text: str) -> float | None:
    m = re.search(pattern.replace("NUM", NUMBER), text)
    return float(m.group(1)) if m else None


def _pan_verdict(out: str, memlim: int) -> tuple[str, bool]:
    """The verdict and whether the search failed, from pan's output."""
    assertion = re.search(r"assertion violated (.*?) \(at depth", out)
    errors = _number(r"errors: NUM", out)
    if assertion or (errors is not None and errors > 0):
        return f"violated: {assertion.group(1) if assertion else 'errors'}", False
    if "reached -DMEMLIM bound" in out or "out of memory" in out:
        return f"out of memory (MEMLIM {memlim:,} MB)", True
    if "max search depth too small" in out:
        return "incomplete (depth bound)", True
    if "Search not completed" in out or errors is None:
        return "incomplete", True
    return "holds", False


def parse_pan(out: str, memlim: int = MEMLIM_MAX_MB) -> PanResult:
    """Read pan's report (SPIN 6.5's format)."""
    verdict, failed = _pan_verdict(out, memlim)
    states = _number(r"NUM states, stored", out)
    return PanResult(
        verdict, None if states is None else int(states),
        _number(r"pan: elapsed time NUM seconds", out),
        _number(r"NUM\s+total actual memory usage", out), failed,
    )  # fmt: skip


@dataclass(frozen=True)
class SpinRun:
    """One end-to-end SPIN run at N openers (spin -a, gcc, pan)."""

    openers: int
    pan: PanResult
    #: wall seconds of the three commands
    seconds: float
    cut: bool = False

    @property
    def stops(self) -> bool:
        """Whether a larger N is not worth running (cut, or out of memory)."""
        return self.cut or self.pan.failed


def spin_commands(openers: int, memlim: int, pml: Path) -> list[list[str]]:
    """The three commands of the .pml's README, for ``-DPOST -DN=openers``."""
    return [
        ["spin", "-DPOST", f"-DN={openers}", "-a", str(pml)],
        ["gcc", "-O2", "-DSAFETY", f"-DMEMLIM={memlim}", "-o", "pan", "pan.c"],
        ["./pan", f"-m{PAN_DEPTH}"],
    ]


def run_spin(openers: int, settings: SpinSettings) -> SpinRun:
    """SPIN end to end in a scratch folder (pan.c, pan and the trail go there)."""
    start = time.monotonic()
    out = ""
    with tempfile.TemporaryDirectory(prefix="ctxcheck-spin-") as work:
        for command in spin_commands(openers, settings.memlim, settings.pml.resolve()):
            left = settings.cap - (time.monotonic() - start)
            try:
                proc = subprocess.run(command, cwd=work, capture_output=True, text=True,
                                      timeout=max(left, 0.001), check=False)  # fmt: skip
            except subprocess.TimeoutExpired:
                cut = PanResult(f"cut at {settings.cap:g} s ({command[0]})", failed=True)
                return SpinRun(openers, cut, time.monotonic() - start, cut=True)
            out = proc.stdout + proc.stderr
            if proc.returncode != 0 and command[0] != "./pan":
                why = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                failed = PanResult(f"{command[0]} failed: {why[0][:80]}", failed=True)
                return SpinRun(openers, failed, time.monotonic() - start)
    return SpinRun(openers, parse_pan(out, settings.memlim), time.monotonic() - start)


def spin_missing() -> list[str]:
    """The tools SPIN needs that are not on PATH."""
    return [tool for tool in ("spin", "gcc") if shutil.which(tool) is None]


def spin_version() -> str:
    """``Spin Version 6.5.2 -- 6 December 2019``, or what went wrong."""
    try:
        proc = subprocess.run(["spin", "-V"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"spin -V failed: {exc}"
    return proc.stdout.strip() or proc.stderr.strip()


# -------------------------------------------------------------- ctxcheck


@dataclass(frozen=True)
class CheckRun:
    """One ``ctxcheck check --json`` process at N openers under one explorer."""

    explorer: str
    openers: int
    verdict: str
    exhaustive: bool
    executions: int
    #: distinct states, for a stateful explorer (bfs)
    states: int | None
    #: wall seconds of the process, and the search's own (from --json)
    seconds: float
    search_seconds: float
    cut: bool


def check_command(openers: int, explorer: str, cap: float) -> list[str]:
    """The ``ctxcheck check`` the table times, as a process of this interpreter."""
    return [sys.executable, "-m", "ctxcheck", "check", TARGET, "--variant", VARIANT,
            "--param", f"openers={openers}", "--explorer", explorer, "--timeout", f"{cap:g}",
            "--json", "--quiet"]  # fmt: skip


def run_ctxcheck(openers: int, explorer: str, cap: float) -> CheckRun:
    """Check the model as a user would, timed from start to exit."""
    start = time.monotonic()
    try:
        proc = subprocess.run(check_command(openers, explorer, cap), capture_output=True,
                              text=True, timeout=cap + GRACE, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return CheckRun(explorer, openers, "inconclusive", False, 0, None,
                        time.monotonic() - start, cap, True)  # fmt: skip
    seconds = time.monotonic() - start
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        why = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return CheckRun(explorer, openers, f"error: {why[0][:80]}", False, 0, None, seconds, 0.0,
                        True)  # fmt: skip
    stats = data["stats"]
    cut = not data["exhaustive"] and data["verdict"] == "inconclusive"
    return CheckRun(explorer, openers, data["verdict"], data["exhaustive"],
                    stats["executions"], stats.get("states"), seconds, stats["seconds"],
                    cut)  # fmt: skip


# ----------------------------------------------------------------- rows


@dataclass
class SpinRow:
    """One N: SPIN's run (None: not run) and each explorer's (None: not run)."""

    openers: int
    spin: SpinRun | None
    checks: dict[str, CheckRun | None] = field(default_factory=dict)


def spin_rows(
    settings: SpinSettings,
    on_row: Callable[[SpinRow], None] | None = None,
    with_spin: bool = True,
) -> list[SpinRow]:
    """N = first..last: SPIN (when ``with_spin``) and each explorer, each stopped at its
    first cut (or out-of-memory) run."""
    rows: list[SpinRow] = []
    going = {name: True for name in settings.explorers}
    spin_going = with_spin
    for n in range(settings.first, settings.last + 1):
        spin = run_spin(n, settings) if spin_going else None
        spin_going = spin_going and not (spin is not None and spin.stops)
        row = SpinRow(n, spin)
        for name in settings.explorers:
            run = run_ctxcheck(n, name, settings.cap) if going[name] else None
            going[name] = going[name] and not (run is not None and run.cut)
            row.checks[name] = run
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def log_row(row: SpinRow) -> None:
    """One line on stderr per N (the table comes at the end)."""
    spin = "not run" if row.spin is None else f"{row.spin.pan.verdict}, {row.spin.seconds:.1f}s"
    ours = "; ".join(
        f"{name} {run.verdict}, {run.executions} executions, {run.seconds:.1f}s"
        for name, run in row.checks.items()
        if run is not None
    )
    print(f"ctxcheck bench: spin N={row.openers}: SPIN {spin}; {ours or 'ctxcheck not run'}",
          file=sys.stderr, flush=True)  # fmt: skip


# ---------------------------------------------------------------- table


def _spin_cells(run: SpinRun | None, absent: str) -> list[str]:
    if run is None:
        return [absent, "-", "-", "-"]
    pan = run.pan
    own = "" if pan.seconds is None else f" (pan {pan.seconds:.2f})"
    seconds = f"{run.seconds:.1f}{own}"
    return [
        "-" if pan.states is None else num(pan.states), seconds,
        "-" if pan.memory_mb is None else f"{pan.memory_mb:,.0f}", pan.verdict,
    ]  # fmt: skip


def _check_cells(run: CheckRun | None) -> list[str]:
    if run is None:
        return ["-", "-", "-", "-"]
    exhaustive = "yes" if run.exhaustive else ("no (cut)" if run.cut else "no")
    states = "" if run.states is None else f" ({num(run.states)} states)"
    return [num(run.executions) + states, f"{run.seconds:.1f}", run.verdict, exhaustive]


def spin_table(rows: Sequence[SpinRow], explorers: Sequence[str], absent: str = "-") -> str:
    """One row per N: SPIN's columns, then each explorer's."""
    headers = ["N", "SPIN states", "SPIN s", "SPIN MB", "SPIN verdict"]
    for name in explorers:
        headers += [f"{name} executions", f"{name} s", f"{name} verdict", f"{name} exhaustive"]
    body = [
        [str(r.openers), *_spin_cells(r.spin, absent),
         *(cell for name in explorers for cell in _check_cells(r.checks.get(name)))]
        for r in rows
    ]  # fmt: skip
    align = "l" + "rrrl" + "rrll" * len(explorers)
    return table(headers, body, align)


def _best(row: SpinRow) -> CheckRun | None:
    """The fastest ctxcheck explorer that finished at this N."""
    done = [run for run in row.checks.values() if run is not None and run.exhaustive]
    return min(done, key=lambda run: run.seconds, default=None)


def _spin_done(row: SpinRow) -> SpinRun | None:
    """SPIN's run at this N, if it proved the property (finished, no error)."""
    return row.spin if row.spin is not None and row.spin.pan.verdict == "holds" else None


def _fastest(rows: Sequence[SpinRow]) -> list[str]:
    """Where ctxcheck's fastest exhaustive explorer was slower than SPIN, or that it never was;
    and where only one of the two finished."""
    slower, both, only_spin, only_ours = [], [], [], []
    spin_ran = any(r.spin is not None for r in rows)
    for r in rows:
        best, spin = _best(r), _spin_done(r)
        if best is not None and spin is not None:
            both.append(str(r.openers))
            if best.seconds > spin.seconds:
                slower.append(f"N={r.openers} ({best.explorer} {best.seconds:.1f} s against "
                              f"{spin.seconds:.1f} s)")  # fmt: skip
        elif spin is not None:
            only_spin.append(str(r.openers))
        elif best is not None and spin_ran:
            only_ours.append(str(r.openers))
    fastest = "ctxcheck's fastest exhaustive explorer was"
    if slower:
        parts = [f"{fastest} slower than SPIN end to end at {', '.join(slower)}."]
    elif both:
        parts = [f"{fastest} no slower than SPIN end to end at every N both finished: "
                 f"{', '.join(both)}."]  # fmt: skip
    else:
        parts = ["No N was finished by both SPIN and ctxcheck."]
    if only_spin:
        parts.append(f"Only SPIN finished at N = {', '.join(only_spin)}.")
    if only_ours:
        parts.append(f"Only ctxcheck finished at N = {', '.join(only_ours)}.")
    return parts


def _per_explorer(rows: Sequence[SpinRow], name: str) -> str | None:
    """Where explorer ``name`` was slower than a finished SPIN run, or cut where SPIN finished."""
    slower, cut = [], []
    for r in rows:
        run, spin = r.checks.get(name), _spin_done(r)
        if run is None or spin is None:
            continue
        if run.cut or not run.exhaustive:
            cut.append(str(r.openers))
        elif run.seconds > spin.seconds:
            slower.append(f"N={r.openers} ({run.seconds:.1f} s against {spin.seconds:.1f} s)")
    if not (slower or cut):
        return None
    said = [f"slower than SPIN at {', '.join(slower)}"] if slower else []
    said += [f"cut at N = {', '.join(cut)}, where SPIN finished"] if cut else []
    return f"{name} was {' and '.join(said)}."


def comparison(rows: Sequence[SpinRow]) -> str:
    """Where ctxcheck was slower than SPIN, said plainly: it is what issue 14 is about.

    First the fastest explorer at each N (the one a user would pick), then
    each explorer that lost to SPIN somewhere, since which of them does says
    where the engine's cost lies."""
    names = dict.fromkeys(name for r in rows for name in r.checks)
    notes = [note for name in names if (note := _per_explorer(rows, name)) is not None]
    return " ".join([*_fastest(rows), *notes])


def spin_section(
    rows: Sequence[SpinRow], settings: SpinSettings, provenance: Sequence[str], spin_note: str
) -> str:
    """``## SPIN side by side``: where the numbers come from, the table, what it says."""
    names = ", ".join(settings.explorers)
    intro = (
        f"The race of `perf_counter.ctx_create` at the granularity of the Promela model "
        f"`{PML}` (the team's shared/spin model, shipped in ctxcheck/bench/promela/), "
        f"variant POST, N openers. SPIN: `spin -DPOST -DN=N -a "
        f"{PML}`, `gcc -O2 -DSAFETY -DMEMLIM={settings.memlim} -o pan pan.c`, `./pan "
        f"-m{PAN_DEPTH}`; `SPIN s` is the three commands' wall time (pan's own in brackets), "
        f"`SPIN MB` pan's total actual memory (its {PAN_DEPTH:,}-deep stack and hash table "
        f"are preallocated, ~660 MB). ctxcheck: `ctxcheck check {TARGET} --variant {VARIANT} "
        f"--param openers=N --explorer E --timeout {settings.cap:g} --json` as a process "
        f"(the model `models/spin/ctx_create.py`, the .pml's steps), for E in {names}; its "
        f"seconds are the process's, interpreter start included; bfs also gives the distinct "
        f"states it stored, SPIN's measure. Every run is cut at "
        f"{settings.cap:g} s; a tool cut (or out of memory) at one N is not run at larger "
        f"N (`-`)."
    )
    absent = "not installed" if spin_note.startswith("SPIN is not installed") else "-"
    return "\n\n".join([
        "## SPIN side by side", *provenance, spin_note, intro,
        spin_table(rows, settings.explorers, absent), comparison(rows),
    ]) + "\n"  # fmt: skip


def spin_note(settings: SpinSettings) -> tuple[str, bool]:
    """The line that says which SPIN ran (or why none did), and whether it can run."""
    missing = spin_missing()
    if missing:
        return f"{INSTALL_HINT}; missing: {', '.join(missing)}. Only ctxcheck was measured.", False
    if not settings.pml.is_file():
        return (f"The Promela model {settings.pml} is not here: give its folder with "
                f"`--spin-models DIR`. Only ctxcheck was measured."), False  # fmt: skip
    return f"SPIN: {spin_version()}; pan's MEMLIM {settings.memlim:,} MB.", True
