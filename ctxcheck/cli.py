"""The ``ctxcheck`` command: a thin layer over :func:`ctxcheck.check`.

Exit status: 0 every property holds and the search was exhaustive within the
stated bounds; 1 a violation was found; 2 usage error, a model that cannot
be loaded or that raised an error; 3 inconclusive (a budget ran out first).
Progress goes to stderr (a bar on a terminal), results to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ctxcheck.errors import CtxcheckError, ModelError, UsageError
from ctxcheck.lkmm import command as litmus_command

EXIT_HOLDS, EXIT_VIOLATED, EXIT_ERROR, EXIT_INCONCLUSIVE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that names the valid choices and exits 2, as the contract says."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"ctxcheck: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests)."""
    from ctxcheck.explorers import EXPLORERS

    parser = _Parser(prog="ctxcheck", description="Model checker for lockless kernel code.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="models, variants, params, properties")
    p.add_argument("prefix", nargs="?", default="", help="only models under this prefix")
    p.add_argument("--json", action="store_true", help="machine-readable output")

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
    p.add_argument("--trace-out", metavar="FILE", help="write the counterexample trace here")
    p.add_argument("--force", action="store_true", help="overwrite an existing --trace-out")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = sub.add_parser("replay", help="re-execute a trace file")
    p.add_argument("trace", help="a trace file written by check --trace-out")
    p.add_argument(
        "--model",
        metavar="FILE",
        help="the model file to replay the trace on (a trace never loads a file by itself)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = sub.add_parser("render", help="draw a trace file")
    p.add_argument("trace", help="a trace file written by check --trace-out")
    p.add_argument("--format", required=True, choices=["txt", "dot", "svg", "png", "lanes"])
    p.add_argument(
        "--model-lines",
        action="store_true",
        help="txt: give the model's own file:line for each step, not the followed code's line",
    )
    p.add_argument("-o", "--output", help="output file (default: stdout for text formats)")

    p = sub.add_parser("prove", help="write the regression-proof report")
    p.add_argument("targets", nargs="+", help="models or package prefixes (perf_counter)")
    p.add_argument("-o", "--output", default="reports", help="output directory")
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        help="bound each check to S seconds (a cut check is inconclusive)",
    )

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
    litmus_command.add_parser(sub)
    return parser


@contextmanager
def _progress(label: str) -> Iterator[Callable[[Any], None] | None]:
    """A rich progress line on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.status import Status

    status = Status(f"{label}: starting", console=Console(stderr=True))
    status.start()

    def update(stats: Any) -> None:
        status.update(
            f"{label}: {stats.executions} executions, {stats.blocked} blocked, "
            f"{stats.steps} steps, {stats.seconds:.1f}s"
        )

    try:
        yield update
    finally:
        status.stop()


def _cmd_list(args: argparse.Namespace) -> int:
    from ctxcheck.explorers import EXPLORERS
    from ctxcheck.loader import list_models

    models = list_models(args.prefix)
    if args.json:
        print(json.dumps({"models": [m.describe() for m in models],
                          "explorers": list(EXPLORERS)}, indent=1))  # fmt: skip
        return EXIT_HOLDS
    for m in models:
        d = m.describe()
        print(f"{m.name}  ({m.source})")
        if d["doc"]:
            print(f"  {d['doc']}")
        print("  variants:   " + ", ".join(v["name"] for v in d["variants"]))
        params = [f"{p['name']}={p['default']} ({p['min']}..{p['max']})" for p in d["params"]]
        print("  params:     " + (", ".join(params) or "none"))
        print("  properties: " + ", ".join(p["name"] for p in d["properties"]))
    if not models:
        print("no models found (looked for a models/ package in the current directory)")
    return EXIT_HOLDS


def _trace_paths(base: str, props: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, prop in enumerate(props):
        if i == 0:
            out[prop] = base
        else:
            p = Path(base)
            out[prop] = str(p.with_name(f"{p.stem}.{prop}{p.suffix or '.json'}"))
    return out


def _cmd_check(args: argparse.Namespace) -> int:
    from ctxcheck.api import check
    from ctxcheck.render.text import render_violation

    params: dict[str, Any] = dict(_parse_params(args.param))
    if args.trace_out and Path(args.trace_out).exists() and not args.force:
        raise UsageError(f"--trace-out {args.trace_out} exists; pass --force to overwrite it")
    with _progress(args.target) as progress:
        result = check(
            args.target, variant=args.variant, explorer=args.explorer,
            max_executions=args.max_executions, timeout=args.timeout, seed=args.seed,
            max_steps=args.max_steps, max_preemptions=args.max_preemptions,
            progress=progress, **params,
        )  # fmt: skip
    if args.trace_out and result.violations:
        from dataclasses import replace

        from ctxcheck import tracefile

        # the file records what replay must load: the target as given
        target = replace(result, model=args.target)
        paths = _trace_paths(args.trace_out, [v.property for v in result.violations])
        for v in result.violations:
            v.trace_file = paths[v.property]
            tracefile.save(v.trace_file, target, v)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        print(result.summary())
        for v in result.violations:
            print()
            print(render_violation(result, v, v.trace_file))
    return result.exit_status


def _cmd_replay(args: argparse.Namespace) -> int:
    from ctxcheck import tracefile
    from ctxcheck.render.text import render_violation

    result, notes = tracefile.replay(tracefile.load(args.trace), args.model)
    for note in notes:
        print(note, file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        v = result.violations[0]
        print(f"replayed {args.trace}: {v.property} violated again after {v.steps} steps")
        print()
        print(render_violation(result, v, args.trace, args.model))
    return EXIT_VIOLATED


def _cmd_render(args: argparse.Namespace) -> int:
    from ctxcheck import tracefile
    from ctxcheck.render import formats

    trace = tracefile.load(args.trace)
    data = formats.render(trace, args.format, args.model_lines)
    if args.output:
        out = Path(args.output)
        if isinstance(data, bytes):
            out.write_bytes(data)
        else:
            out.write_text(data)
    elif isinstance(data, bytes):
        raise UsageError(f"--format {args.format} is binary: give an output file with -o")
    else:
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
    return EXIT_HOLDS


def _cmd_prove(args: argparse.Namespace) -> int:
    from ctxcheck.report import prove

    return prove.main(args.targets, args.output, args.timeout)


def _cmd_bench(args: argparse.Namespace) -> int:
    from ctxcheck import bench

    return bench.main(
        quick=args.quick, output=args.output, models=args.models, cap=args.cap,
        scale=args.scale, scale_cap=args.scale_cap, scale_variant=args.scale_variant,
        naive=args.naive or [], naive_cap=args.naive_cap,
    )  # fmt: skip


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _cmd_list, "check": _cmd_check, "replay": _cmd_replay, "render": _cmd_render,
    "prove": _cmd_prove, "bench": _cmd_bench, "litmus": litmus_command.run,
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CtxcheckError as exc:
        if args.debug:
            traceback.print_exc()
        kind = "model error" if isinstance(exc, ModelError) else "error"
        print(f"ctxcheck: {kind}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ctxcheck: interrupted", file=sys.stderr)
        return EXIT_INCONCLUSIVE


if __name__ == "__main__":
    sys.exit(main())
