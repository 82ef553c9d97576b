"""``ctxcheck litmus FILE.litmus [--json]``: a litmus test's LKMM verdict.

The text output follows herd7's (States, Positive/Negative, Condition,
Observation) and adds the data-race flag, the test's expected ``Result:``
and, for Sometimes, a witness execution drawn by :mod:`.witness`.  Exit 0
when the test ran (whatever its verdict), 2 when the file cannot be read or
parsed, with a message naming the file and line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ctxcheck.errors import CtxcheckError
from ctxcheck.lkmm import witness
from ctxcheck.lkmm.events import Value, fmt_value
from ctxcheck.lkmm.litmus import condition
from ctxcheck.lkmm.verdict import Verdict, load, run_test


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``litmus`` subcommand on an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "litmus", help="run a C litmus test under the Linux kernel memory model"
    )
    p.add_argument(
        "file", metavar="FILE.litmus", help="a litmus test in the tools/memory-model C format"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the test named by ``args.file``; print the verdict; return the exit status."""
    try:
        verdict = run_test(load(args.file))
    except CtxcheckError as err:
        print(f"ctxcheck litmus: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(to_json(verdict), indent=2))
    else:
        print(to_text(verdict))
    return 0


def _state_text(state: tuple[tuple[str, Any], ...]) -> str:
    return " ".join(f"{k}={fmt_value(v)};" for k, v in state)


def to_text(v: Verdict) -> str:
    """herd7-style text, plus the flag, the expectation and a witness."""
    t = v.test
    cond = f"{t.quantifier} {condition.show(t.cond)}"
    lines = [f"Test {t.name} (LKMM)", f"States {len(v.states)}"]
    lines += [_state_text(s) for s in v.states]
    lines += [
        f"Positive: {v.matching} Negative: {len(v.states) - v.matching}",
        f"Condition {cond}",
        f"Observation {t.name} {v.result} {v.matching} {len(v.states) - v.matching}",
        f"Data race: {'yes (flag data-race)' if v.data_race else 'no'}",
    ]
    other = sorted(v.flags - {"data-race"})
    if other:
        lines.append("Flags: " + ", ".join(other))
    if v.deadlock:
        lines.append("No allowed execution gets to the end (DEADLOCK), or past the filter")
    if t.expected:
        agree = "agrees" if v.agrees else "DISAGREES"
        lines.append(f"Expected (Result: line): {t.expected} -- {agree}")
    lines.append(
        f"Explored {v.stats.candidates} candidate executions, {v.executions} allowed, "
        f"in {v.seconds:.3f}s"
    )
    if v.witness is not None:
        what = "satisfies" if t.quantifier != "forall" else "violates"
        lines += ["", f"Witness: an execution the LKMM allows that {what} the condition", ""]
        lines.append(witness.draw(v.witness.graph, v.witness.judgement.races))
    return "\n".join(lines)


def _json_value(value: Value) -> int | str:
    """Numbers stay numbers; an address is its variable's name."""
    return value if isinstance(value, int) else str(value)


def to_json(v: Verdict) -> dict[str, Any]:
    """The contract's keys (test, model, result, states, data_race) and more."""
    t = v.test
    out: dict[str, Any] = {
        "test": t.name,
        "model": "lkmm",
        "result": v.result,
        "states": len(v.states),
        "data_race": v.data_race,
        "file": t.path,
        "expected": t.expected,
        "agrees": v.agrees if t.expected else None,
        "deadlock": v.deadlock,
        "condition": f"{t.quantifier} {condition.show(t.cond)}",
        "positive": v.matching,
        "negative": len(v.states) - v.matching,
        "flags": sorted(v.flags),
        "final_states": [{k: _json_value(x) for k, x in s} for s in v.states],
        "stats": {
            "candidates": v.stats.candidates,
            "executions": v.executions,
            "thread_runs": v.stats.thread_runs,
            "seconds": round(v.seconds, 4),
        },
        "witness": None,
    }
    if v.witness is not None:
        g = v.witness.graph
        nm = witness.names(g)
        out["witness"] = {
            "events": [
                {"name": nm[i], "thread": e.tid, "event": e.short(), "line": e.line}
                for i, e in enumerate(g.events)
                if not e.is_init
            ],
            "rf": {nm[r]: nm[w] for r, w in sorted(g.rf.items())},
            "co": {loc: [nm[w] for w in order] for loc, order in sorted(g.co.items())},
            "text": witness.draw(g, v.witness.judgement.races),
            "races": [[nm[a], nm[b]] for a, b in v.witness.judgement.races],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the subcommand on its own (``python -m ctxcheck.lkmm.command``)."""
    parser = argparse.ArgumentParser(prog="ctxcheck")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
