"""The ``ctxcheck`` command: a thin layer over :func:`ctxcheck.check`.

Exit status: 0 every property holds and the search was exhaustive within the
stated bounds; 1 a violation was found; 2 usage error, a model that cannot
be loaded or that raised an error; 3 inconclusive (a budget ran out first).
Progress goes to stderr (a bar on a terminal), results to stdout.

Whatever the input, the user sees a message, never a traceback: every
:class:`~ctxcheck.errors.CtxcheckError` is one paragraph and exit 2, a
closed pipe (``ctxcheck list | head``) ends the output quietly with the
command's own status, and a text that cannot be shown (a control character
from a trace file) is shown escaped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from ctxcheck.errors import CtxcheckError, ModelError, UsageError
from ctxcheck.lkmm import command as litmus_command

EXIT_HOLDS, EXIT_VIOLATED, EXIT_ERROR, EXIT_INCONCLUSIVE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that names the valid choices and exits 2, as the contract says."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"ctxcheck: error: {_printable(message)}\n")


def _printable(text: str) -> str:
    from ctxcheck.render.safe import clip, printable

    return printable(clip(text, 4000))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _job_counts(text: str) -> tuple[int, ...]:
    counts = tuple(_positive_int(x) for x in text.split(","))
    if not counts or 0 in counts:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: give job counts of 1 or more, e.g. 1,2,4")
    return counts


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of seconds") from None
    if not math.isfinite(value):  # nan never fires; inf is no bound: leave the option out
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a finite number of seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def _parse_params(items: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param {item!r}: expected KEY=VALUE, e.g. --param openers=2")
        params[key.strip()] = value.strip()
    return params


def _path_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="DIR",
        help="look for models in DIR first (repeatable; also $CTXCHECK_PATH)",
    )


def _memory_model_option(p: argparse.ArgumentParser) -> None:
    from ctxcheck.model import LKMM_EXPLORERS, MEMORY_MODELS

    p.add_argument(
        "--memory-model",
        choices=MEMORY_MODELS,
        default="sc",
        help="sc: sequential consistency (default); lkmm: the Linux kernel memory model "
        f"(explorers {', '.join(LKMM_EXPLORERS)})",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests)."""
    from ctxcheck.explorers import EXPLORERS
    from ctxcheck.version import __version__

    parser = _Parser(prog="ctxcheck", description="Model checker for lockless kernel code.")
    parser.add_argument("--version", action="version", version=f"ctxcheck {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="models, variants, params, properties")
    p.add_argument("prefix", nargs="?", default="", help="only models under this prefix")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _path_option(p)

    p = sub.add_parser("check", help="check one model")
    p.add_argument("target", help="model name (perf_counter.ctx_create) or model file")
    p.add_argument("--variant", help="variant to check (default: post, or the first)")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="model parameter")
    p.add_argument("--explorer", default="dpor", help=f"one of: {', '.join(EXPLORERS)}")
    p.add_argument("--max-steps", type=_positive_int, help="step bound per execution")
    p.add_argument("--max-executions", type=_positive_int, help="stop after N executions")
    p.add_argument("--max-preemptions", type=_positive_int, help="preemption bound (bounded)")
    p.add_argument("--timeout", type=_seconds, help="stop after S seconds")
    p.add_argument("--seed", type=int, help="seed for random explorers")
    _memory_model_option(p)
    _split_options(p)
    p.add_argument("--trace-out", metavar="FILE", help="write the counterexample trace here")
    p.add_argument("--force", action="store_true", help="overwrite existing --trace-out files")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _path_option(p)

    p = sub.add_parser("replay", help="re-execute a trace file")
    p.add_argument("trace", help="a trace file written by check --trace-out")
    p.add_argument(
        "--model",
        metavar="FILE",
        help="the model file to replay the trace on (a trace never loads a file by itself)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _path_option(p)

    p = sub.add_parser("render", help="draw a trace file")
    p.add_argument("trace", help="a trace file written by check --trace-out")
    p.add_argument("--format", required=True, choices=["txt", "dot", "svg", "png", "lanes"])
    p.add_argument(
        "--model-lines",
        action="store_true",
        help="txt: give the model's own file:line for each step, not the followed code's line",
    )
    p.add_argument("-o", "--output", help="output file (default: stdout for text formats)")
    p.add_argument("--force", action="store_true", help="overwrite an existing -o file")

    p = sub.add_parser("prove", help="write the regression-proof report")
    p.add_argument("targets", nargs="+", help="models or package prefixes (perf_counter)")
    p.add_argument("-o", "--output", default="reports", help="output directory")
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        help="bound each check to S seconds (a cut check is inconclusive)",
    )
    _memory_model_option(p)
    _split_options(p)
    _path_option(p)

    _bench_parser(sub)

    p = sub.add_parser("new", help="write a starter model and its pytest file")
    p.add_argument("name", help="the model's name, a Python identifier (e.g. seqcount)")
    p.add_argument(
        "--dir", default=".", help="project directory: models/ and tests/ are made in it (.)"
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")

    litmus_command.add_parser(sub)
    return parser


def _split_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="split the dpor search over N processes (0: every core; default 1)",
    )
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="split it over a Dask cluster at ADDRESS (tcp://host:8786), or 'local' to start one",
    )


def _bench_parser(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure explorer speed; writes tables")
    p.add_argument("--quick", action="store_true", help="small sizes only")
    p.add_argument("-o", "--output", help="merge the Markdown sections into this file")
    p.add_argument(
        "--models",
        metavar="PREFIX",
        help="measure every exhaustive explorer on the models under PREFIX",
    )
    p.add_argument(
        "--cap", type=_seconds, default=20.0, help="time cap of each --models check (20)"
    )
    p.add_argument(
        "--scale",
        metavar="TARGET:PARAM=A..B[,K=V...]",
        help="measure TARGET with PARAM = A..B under each exhaustive explorer",
    )
    p.add_argument(
        "--scale-cap",
        type=_seconds,
        default=300.0,
        help="time cap of each --scale check; an explorer stops at its first cut run (300)",
    )
    p.add_argument("--scale-variant", help="variant for --scale (default: post, or the first)")
    p.add_argument(
        "--naive",
        action="append",
        metavar="TARGET[:K=V,...]",
        help="count the executions naive would run on every variant of TARGET (repeatable)",
    )
    p.add_argument(
        "--naive-cap",
        type=_seconds,
        default=900.0,
        help="time cap of each --naive walk and its dpor check (900)",
    )
    p.add_argument(
        "--split",
        action="append",
        metavar="TARGET[:K=V,...]",
        help="time TARGET's dpor search in one process and split over --split-jobs (repeatable)",
    )
    p.add_argument(
        "--split-jobs",
        type=_job_counts,
        default=(1, 2, 4),
        metavar="N,N,...",
        help="the numbers of jobs --split measures (1,2,4)",
    )
    _spin_options(p)
    _path_option(p)


def _spin_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--spin",
        action="store_true",
        help="SPIN (if installed) and ctxcheck side by side on spin.ctx_create, N openers",
    )
    p.add_argument("--spin-openers", default="2..8", metavar="A..B", help="the N of --spin (2..8)")
    p.add_argument(
        "--spin-cap", type=_seconds, default=300.0, help="time cap of each --spin run (300)"
    )
    p.add_argument(
        "--spin-memlim",
        type=_positive_int,
        metavar="MB",
        help="pan's MEMLIM (default and maximum: 16000, and 2/3 of the RAM)",
    )
    p.add_argument(
        "--spin-models",
        metavar="DIR",
        help="a folder with another ctx_create.pml (default: ctxcheck/bench/promela)",
    )


@contextmanager
def _progress(label: str, quiet: bool = False) -> Iterator[Callable[[Any], None] | None]:
    """Progress on stderr (:mod:`ctxcheck.progress`): redrawn on a terminal, lines otherwise."""
    from ctxcheck.progress import progress

    with progress(label, quiet) as hook:
        yield hook


# -- list -------------------------------------------------------------------------
def _cmd_list(args: argparse.Namespace) -> int:
    from ctxcheck.explorers import EXPLORERS
    from ctxcheck.loader import list_models, origin
    from ctxcheck.modelpath import model_path

    models = list_models(args.prefix, args.path)
    if args.prefix and not models:
        known = ", ".join(m.name for m in list_models(paths=args.path)) or "none"
        raise UsageError(f"no model is named {args.prefix!r} or under it; known models: {known}")
    if args.json:
        described = []
        for m in models:
            found = origin(m)
            described.append({**m.describe(), "origin": found.describe() if found else None})
        print(json.dumps({"models": described, "explorers": list(EXPLORERS)}, indent=1))
        return EXIT_HOLDS
    for m in models:
        found = origin(m)
        _print_model(m, found.describe() if found else m.source)
    if not models:
        roots = "; ".join(r.describe() for r in model_path(args.path)) or "nowhere"
        print(f"no models found (looked in: {roots}); `ctxcheck new NAME` writes a first one")
    return EXIT_HOLDS


def _print_model(m: Any, where: str) -> None:
    d = m.describe()
    print(f"{m.name}  ({where})")
    if d["doc"]:
        print(f"  {d['doc']}")
    print("  variants:   " + ", ".join(v["name"] for v in d["variants"]))
    params = [f"{p['name']}={p['default']} ({p['min']}..{p['max']})" for p in d["params"]]
    print("  params:     " + (", ".join(params) or "none"))
    print("  properties: " + ", ".join(p["name"] for p in d["properties"]))


# -- check ------------------------------------------------------------------------
def _trace_path(base: str, prop: str, first: bool) -> Path:
    """Where ``--trace-out base`` puts ``prop``'s trace: base for the first, a sibling else."""
    p = Path(base)
    return p if first else p.with_name(f"{p.stem}.{prop}{p.suffix or '.json'}")


def _check_trace_out(base: str, props: Sequence[str], force: bool) -> None:
    """Before the search: every file ``--trace-out`` could write must be free (or forced)."""
    from ctxcheck.output import check_output_file

    check_output_file(base, "--trace-out", force, regular_only=True)  # siblings go beside it
    for prop in props:
        check_output_file(str(_trace_path(base, prop, False)), "--trace-out", force)


def _cmd_check(args: argparse.Namespace) -> int:
    from ctxcheck.api import check
    from ctxcheck.loader import command_target, load_model
    from ctxcheck.render.text import render_violation

    params: dict[str, Any] = dict(_parse_params(args.param))
    model = load_model(args.target, args.path)
    if args.trace_out is not None:
        _check_trace_out(args.trace_out, model.property_names(), args.force)
    _warn_ignored(args.explorer, seed=args.seed)
    with _progress(args.target, args.quiet) as progress:
        result = check(
            model, variant=args.variant, explorer=args.explorer,
            max_executions=args.max_executions, timeout=args.timeout, seed=args.seed,
            max_steps=args.max_steps, max_preemptions=args.max_preemptions,
            progress=progress, jobs=args.jobs, cluster=args.cluster,
            memory_model=args.memory_model, **params,
        )  # fmt: skip
    result = replace(result, target=args.target)
    if args.trace_out is not None and result.violations:
        _write_traces(args, result, model)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        print(result.summary())
        recorded = command_target(model)  # what a written trace names: its replay line too
        for v in result.violations:
            print()
            print(render_violation(result, v, v.trace_file, recorded if v.trace_file else None))
    return result.exit_status


def _warn_ignored(explorer: str, **knobs: Any) -> None:
    """A warning line for each setting given that the explorer does not have (a seed for dpor)."""
    from ctxcheck.explorers import EXPLORERS, get_explorer
    from ctxcheck.options import Options

    cls = get_explorer(explorer)
    for knob in Options.build(explorer, **knobs).ignored(cls.knobs):
        takers = ", ".join(n for n, c in EXPLORERS.items() if knob in c.knobs)
        why = "it is not random" if knob == "seed" else f"it has no {knob}"
        print(f"ctxcheck: warning: --{knob} is ignored by explorer {explorer} ({why}; "
              f"{takers} take it)", file=sys.stderr)  # fmt: skip


def _write_traces(args: argparse.Namespace, result: Any, model: Any) -> None:
    from ctxcheck.artifacts import Plan, check_free, write_counterexample

    plans = [
        Plan.at(_trace_path(args.trace_out, v.property, i == 0))
        for i, v in enumerate(result.violations)
    ]
    if not args.force:  # again: a file may have appeared while the search ran
        check_free([p.json for p in plans], "--trace-out")
    for v, plan in zip(result.violations, plans, strict=True):
        write_counterexample(result, v, model, plan, force=True, option="--trace-out")


# -- replay, render -----------------------------------------------------------------
def _cmd_replay(args: argparse.Namespace) -> int:
    from ctxcheck import tracefile
    from ctxcheck.render.text import render_violation
    from ctxcheck.replay import replay

    result, notes = replay(tracefile.load(args.trace), args.model, args.path)
    for note in notes:
        print(_printable(note), file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        v = result.violations[0]
        again = f"replayed {args.trace}: {v.property} violated again after {v.steps} steps"
        print(_printable(again))
        print()
        print(render_violation(result, v, args.trace, args.model))
    return EXIT_VIOLATED


def _cmd_render(args: argparse.Namespace) -> int:
    from ctxcheck import tracefile
    from ctxcheck.output import check_output_file, write_output
    from ctxcheck.render import formats

    out = None if args.output is None else check_output_file(args.output, "-o", args.force)
    trace = tracefile.load(args.trace)
    data = formats.render(trace, args.format, args.model_lines)
    if isinstance(data, str) and not data.endswith("\n"):
        data += "\n"  # a text file ends with a newline, on stdout and in a file alike
    if out is not None:
        write_output(out, data, f"the {args.format} drawing")
    elif isinstance(data, bytes):
        raise UsageError(f"--format {args.format} is binary: give an output file with -o")
    else:
        sys.stdout.write(data)
    return EXIT_HOLDS


# -- prove, bench, new --------------------------------------------------------------
def _cmd_prove(args: argparse.Namespace) -> int:
    from ctxcheck.report import prove

    return prove.main(args.targets, args.output, args.timeout, args.path, args.jobs, args.cluster,
                      args.memory_model)  # fmt: skip


def _cmd_bench(args: argparse.Namespace) -> int:
    from ctxcheck import bench

    spin = None
    if args.spin:
        spin = bench.spin_settings(args.spin_openers, args.spin_cap, args.spin_memlim,
                                   args.spin_models)  # fmt: skip
    return bench.main(
        quick=args.quick, output=args.output, models=args.models, cap=args.cap,
        scale=args.scale, scale_cap=args.scale_cap, scale_variant=args.scale_variant,
        naive=args.naive or [], naive_cap=args.naive_cap, paths=args.path,
        split=args.split or [], split_jobs=args.split_jobs, spin=spin,
    )  # fmt: skip


def _cmd_new(args: argparse.Namespace) -> int:
    from ctxcheck.starter import write_starter

    for line in write_starter(args.name, Path(args.dir), args.force):
        print(line)
    return EXIT_HOLDS


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _cmd_list, "check": _cmd_check, "replay": _cmd_replay, "render": _cmd_render,
    "prove": _cmd_prove, "bench": _cmd_bench, "new": _cmd_new, "litmus": litmus_command.run,
}  # fmt: skip


# -- the output streams ---------------------------------------------------------------
class _PipeSafe:
    """A text stream that goes quiet when its reader has gone (``| head``).

    The first ``BrokenPipeError`` points the file descriptor at /dev/null, so
    nothing written afterwards (nor Python's flush at exit) fails again; the
    command runs on and returns its own exit status.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._silence()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._silence()

    def _silence(self) -> None:
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _safe_streams() -> Iterator[None]:
    """stdout and stderr that survive a closed pipe and show any character escaped."""
    saved = sys.stdout, sys.stderr
    for stream in saved:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    sys.stdout, sys.stderr = _PipeSafe(saved[0]), _PipeSafe(saved[1])
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = saved


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    with _safe_streams():
        args = build_parser().parse_args(argv)
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command](args)
    except CtxcheckError as exc:
        if args.debug:
            traceback.print_exc()
        kind = "model error" if isinstance(exc, ModelError) else "error"
        print(f"ctxcheck: {kind}: {_printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ctxcheck: interrupted", file=sys.stderr)
        return EXIT_INCONCLUSIVE
    except (Exception, RecursionError, MemoryError) as exc:  # a bug: say so, in one line
        if args.debug:
            traceback.print_exc()
        print(f"ctxcheck: internal error: {type(exc).__name__}: {_printable(str(exc))} "
              f"(a bug in ctxcheck; --debug shows where)", file=sys.stderr)  # fmt: skip
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
