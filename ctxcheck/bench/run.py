"""``ctxcheck bench``: run the measurements asked for, and keep their tables safe.

Without ``--models``, ``--scale``, ``--naive``, ``--split`` and ``--spin`` a run
measures the engine (:mod:`ctxcheck.bench.engine`); with any of them, only
what they ask for (:mod:`ctxcheck.bench.model_tables`, :mod:`ctxcheck.bench.naive`,
:mod:`ctxcheck.bench.split`, :mod:`ctxcheck.bench.spin`). Every
option, the output file included, is checked before the first measurement.
Each finished section is written at once, first to a copy of its own in the
temporary directory, then merged into ``-o`` (or printed), so neither an
interrupted hour-long run nor a full disk loses a finished table: a failed
write says where the copy is.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from ctxcheck.bench.engine import FULL, QUICK, report
from ctxcheck.bench.host import machine, provenance
from ctxcheck.bench.markdown import write_sections
from ctxcheck.bench.model_tables import (
    log_row,
    model_rows,
    models_section,
    scale_rows,
    scale_section,
)
from ctxcheck.bench.naive import log_row as log_naive_row
from ctxcheck.bench.naive import measure, naive_section
from ctxcheck.bench.specs import (
    parse_naive,
    parse_scale,
    select_models,
    validate_naive,
    validate_scale,
)
from ctxcheck.bench.spin import SpinSettings, spin_note, spin_rows, spin_section
from ctxcheck.bench.spin import log_row as log_spin_row
from ctxcheck.bench.split import DEFAULT_JOBS, split_rows, split_section
from ctxcheck.bench.split import log_row as log_split_row
from ctxcheck.errors import OutputError
from ctxcheck.output import check_output_file, write_output


class Sink:
    """Where a run's sections go: a safe copy first, then ``output`` (or stdout)."""

    def __init__(self, output: str | None) -> None:
        if output is not None:
            check_output_file(output, "bench -o", force=True, regular_only=True)
        self.output = output
        self.sections: list[str] = []
        self.safe: Path | None = None

    def emit(self, text: str) -> int:
        """Keep ``text`` safe, then write it where it belongs; the run's status (0)."""
        self.sections.append(text if text.endswith("\n") else text + "\n")
        self._keep()
        if self.output:
            try:
                write_sections(self.output, text)
            except OutputError as exc:
                where = f"; the measured tables are in {self.safe}" if self.safe else ""
                raise OutputError(f"{exc}{where}") from None
            print(f"ctxcheck bench: wrote {self.output}", file=sys.stderr)
        else:
            sys.stdout.write(self.sections[-1])
        return 0

    def _keep(self) -> None:
        try:
            if self.safe is None:
                fd, name = tempfile.mkstemp(prefix="ctxcheck-bench-", suffix=".md")
                os.close(fd)
                self.safe = Path(name)
            write_output(self.safe, "\n".join(self.sections), "the benchmark copy")
        except (OSError, OutputError):
            self.safe = None  # no temporary directory: the output is the only copy

    def close(self) -> None:
        """Every section reached its place: the safe copy has done its job."""
        if self.safe is not None:
            self.safe.unlink(missing_ok=True)


def _bench_command(
    quick: bool,
    models: str | None,
    cap: float,
    scale: str | None,
    scale_cap: float,
    scale_variant: str | None,
    output: str | None,
    naive: Sequence[str] = (),
    naive_cap: float = 900.0,
    split: Sequence[str] = (),
    split_jobs: Sequence[int] = DEFAULT_JOBS,
    spin: SpinSettings | None = None,
) -> str:
    """The command line that reproduces this run, for the tables' provenance."""
    parts = ["ctxcheck bench"]
    if quick:
        parts.append("--quick")
    if models is not None:
        parts += ["--models", models, "--cap", f"{cap:g}"]
    if scale is not None:
        parts += ["--scale", scale, "--scale-cap", f"{scale_cap:g}"]
        if scale_variant:
            parts += ["--scale-variant", scale_variant]
    for spec in naive:
        parts += ["--naive", spec]
    if naive:
        parts += ["--naive-cap", f"{naive_cap:g}"]
    for spec in split:
        parts += ["--split", spec]
    if split:
        parts += ["--split-jobs", ",".join(map(str, split_jobs))]
    if spin is not None:
        parts += spin.argv()
    if output:
        parts += ["-o", output]
    return " ".join(parts)


def main(
    quick: bool = False,
    output: str | None = None,
    models: str | None = None,
    cap: float = 20.0,
    scale: str | None = None,
    scale_cap: float = 300.0,
    scale_variant: str | None = None,
    naive: Sequence[str] = (),
    naive_cap: float = 900.0,
    paths: Sequence[str] = (),
    split: Sequence[str] = (),
    split_jobs: Sequence[int] = DEFAULT_JOBS,
    spin: SpinSettings | None = None,
) -> int:
    """Entry point of ``ctxcheck bench``: print the tables, or merge them into ``output``.

    Without ``models``, ``scale``, ``naive``, ``split`` and ``spin`` it measures the
    engine (the example models, the synthetic family, the check path). With any, it measures
    only what they ask for; each finished section is written at once, so an
    interrupted hour-long run keeps its first table.
    """
    sink = Sink(output)
    try:
        status = _measure(sink, quick, models, cap, scale, scale_cap, scale_variant, naive,
                          naive_cap, paths, output, split, split_jobs, spin)  # fmt: skip
        sink.close()
        return status
    except KeyboardInterrupt:
        sink.close()  # every finished section is in its place already
        raise


def _measure(
    sink: Sink,
    quick: bool,
    models: str | None,
    cap: float,
    scale: str | None,
    scale_cap: float,
    scale_variant: str | None,
    naive: Sequence[str],
    naive_cap: float,
    paths: Sequence[str],
    output: str | None,
    split: Sequence[str] = (),
    split_jobs: Sequence[int] = DEFAULT_JOBS,
    spin: SpinSettings | None = None,
) -> int:
    """Validate every option, then run and emit each section the options ask for."""
    if models is None and scale is None and not naive and not split and spin is None:
        return sink.emit(report(QUICK if quick else FULL, quick))
    # every option is validated before the first check runs
    selected = select_models(models, paths) if models is not None else []
    spec = parse_scale(scale) if scale is not None else None
    target = validate_scale(spec, scale_variant, paths) if spec is not None else None
    naive_specs = [parse_naive(text) for text in naive]
    split_specs = [parse_naive(text, "--split") for text in split]
    for one in [*naive_specs, *split_specs]:
        validate_naive(one, paths)
    command = _bench_command(
        quick,
        models,
        cap,
        scale,
        scale_cap,
        scale_variant,
        output,
        naive,
        naive_cap,
        split,
        split_jobs,
        spin,
    )
    status = 0
    if models is not None:
        host, start, started = machine(), time.monotonic(), time.strftime("%Y-%m-%d %H:%M")
        rows = model_rows(selected, cap, on_row=log_row)
        lines = provenance(command, started, host, time.monotonic() - start)
        status |= sink.emit(models_section(models, selected, rows, cap, lines))
    if spec is not None and target is not None:
        host, start, started = machine(), time.monotonic(), time.strftime("%Y-%m-%d %H:%M")
        srows = scale_rows(target[0], target[1], spec, scale_cap, on_row=log_row)
        lines = provenance(command, started, host, time.monotonic() - start)
        status |= sink.emit(scale_section(spec, target[1], srows, scale_cap, lines))
    if naive_specs:
        host, started = machine(), time.strftime("%Y-%m-%d %H:%M")
        nrows, seconds = measure(naive_specs, naive_cap, on_row=log_naive_row, paths=paths)
        lines = provenance(command, started, host, seconds)
        status |= sink.emit(naive_section(nrows, naive_cap, lines))
    if split_specs:
        host, start, started = machine(), time.monotonic(), time.strftime("%Y-%m-%d %H:%M")
        prow = split_rows(split_specs, split_jobs, on_row=log_split_row, paths=paths)
        lines = [
            f"Measured by `{command}`, started {started}; this table took "
            f"{(time.monotonic() - start) / 60:.0f} min.",
            f"Machine: {host}.",
        ]
        status |= sink.emit(split_section(prow, lines))
    if spin is not None:
        status |= sink.emit(_spin(spin, command))
    return status


def _spin(settings: SpinSettings, command: str) -> str:
    """The ``SPIN side by side`` section: SPIN where it can run, ctxcheck always."""
    note, runnable = spin_note(settings)
    host, start, started = machine(), time.monotonic(), time.strftime("%Y-%m-%d %H:%M")
    rows = spin_rows(settings, on_row=log_spin_row, with_spin=runnable)
    lines = [
        f"Measured by `{command}`, started {started}; this table took "
        f"{(time.monotonic() - start) / 60:.0f} min, one run after another (never two at once).",
        f"Machine: {host}, {_load()} at the end. The machine was shared with other jobs: "
        "the load average says how much of it was ours, and the seconds are wall time.",
    ]
    return spin_section(rows, settings, lines, note)


def _load() -> str:
    """The load average now (one minute), for a run long enough for it to change."""
    return f"load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "load unknown"
