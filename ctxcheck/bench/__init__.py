"""``ctxcheck bench``: how fast the explorers and the command line are, as Markdown.

Speed is reported, never asserted: the numbers depend on the machine, which
the output names. One module per concept, imports pointing one way
(``run`` at the top, ``markdown``/``host``/``timing``/``family`` at the bottom):

* :mod:`~ctxcheck.bench.run`: the command: which measurements, the output kept safe;
* :mod:`~ctxcheck.bench.engine`: every explorer on the example models and the family;
* :mod:`~ctxcheck.bench.model_tables`: every exhaustive explorer on a prefix's
  models (``--models``), and one model's growth in one parameter (``--scale``);
* :mod:`~ctxcheck.bench.naive`: what naive would run where it cannot finish (``--naive``);
* :mod:`~ctxcheck.bench.split`: one process against a split search (``--split``);
* :mod:`~ctxcheck.bench.spin`: SPIN and ctxcheck on the same race (``--spin``);
* :mod:`~ctxcheck.bench.specs`: the ``--models``/``--scale``/``--naive`` specs, checked first;
* :mod:`~ctxcheck.bench.family`: the benchmark model family (N threads, N! traces);
* :mod:`~ctxcheck.bench.timing`: whole processes timed, and Ctrl-C stopping a run;
* :mod:`~ctxcheck.bench.host`: the machine the numbers were measured on;
* :mod:`~ctxcheck.bench.markdown`: tables, and splicing sections into BENCHMARKS.md.

This front door re-exports what scripts and tests use.
"""

from __future__ import annotations

from ctxcheck.bench.engine import (
    FULL,
    QUICK,
    SAMPLED_BUDGET,
    Row,
    Settings,
    examples,
    report,
    scaling,
)
from ctxcheck.bench.family import FAMILY
from ctxcheck.bench.host import machine, provenance
from ctxcheck.bench.markdown import merge_sections, write_sections
from ctxcheck.bench.model_tables import (
    EXHAUSTIVE,
    MODEL_MIN_TIME,
    TRACE_COUNTER,
    CheckRow,
    model_rows,
    model_table,
    models_section,
    run_check,
    scale_rows,
    scale_section,
    scale_table,
    trace_counts,
)
from ctxcheck.bench.run import main
from ctxcheck.bench.specs import (
    NAIVE_SYNTAX,
    SCALE_SYNTAX,
    NaiveSpec,
    ScaleSpec,
    parse_naive,
    parse_scale,
    select_models,
    validate_naive,
    validate_scale,
)
from ctxcheck.bench.spin import (
    SpinSettings,
    parse_pan,
    spin_rows,
    spin_section,
    spin_settings,
)
from ctxcheck.errors import UsageError

__all__ = [
    "EXHAUSTIVE", "FAMILY", "FULL", "MODEL_MIN_TIME", "NAIVE_SYNTAX", "QUICK", "SAMPLED_BUDGET",
    "SCALE_SYNTAX", "TRACE_COUNTER", "CheckRow", "NaiveSpec", "Row", "ScaleSpec", "Settings",
    "SpinSettings", "UsageError", "examples", "machine", "main", "merge_sections", "model_rows",
    "model_table", "models_section", "parse_naive", "parse_pan", "parse_scale", "provenance",
    "report", "run_check", "scale_rows", "scale_section", "scale_table", "scaling", "select_models",
    "spin_rows", "spin_section", "spin_settings", "trace_counts", "validate_naive",
    "validate_scale", "write_sections",
]  # fmt: skip
