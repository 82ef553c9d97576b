"""``ctxcheck bench --models/--scale/--naive``: the models' tables, how they are cut, where they go.

The real run measures the perf_counter models for most of an hour; these
tests run the same code on ``examples.lost_update`` with caps of a fraction
of a second, and check the content of the tables (every row, the columns,
cut runs marked), that an explorer's scaling stops at its first cut run,
that writing the tables keeps the other sections of BENCHMARKS.md, and that
a bad option is a usage error (exit 2).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ctxcheck import bench, check
from ctxcheck.loader import list_models

Cli = Callable[..., "subprocess.CompletedProcess[str]"]

LOST = "examples.lost_update"
MODEL_HEADERS = (
    "| model | variant | explorer | verdict | search | executions | states | steps | seconds "
    "| steps/s | traces | executions/traces |"
)
SCALE_HEADERS = (
    "| explorer | threads | verdict | exhaustive | executions | states | steps | seconds "
    "| traces | executions/traces |"
)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _rows(text: str, headers: str) -> list[dict[str, str]]:
    """The body rows of the table with these headers, as dicts."""
    lines = text.splitlines()
    start = lines.index(headers)
    names = _cells(headers)
    out = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        out.append(dict(zip(names, _cells(line), strict=True)))
    return out


def test_models_table_has_every_variant_and_explorer_with_trace_ratios() -> None:
    models = list_models(LOST)  # the other examples (seqcount) are too big for a 5 s cap
    rows = bench.model_rows(models, cap=5.0, min_time=0.0)
    text = bench.models_section("examples", models, rows, 5.0, ["Measured by a test."])
    assert text.startswith("## Explorers on the examples models\n")
    assert "- `examples.lost_update`: threads=2 (defaults)" in text
    table = _rows(text, MODEL_HEADERS)
    seen = {(r["model"], r["variant"], r["explorer"]) for r in table}
    want = {(m.name, v.name, e) for m in models for v in m.variants for e in bench.EXHAUSTIVE}
    assert seen == want
    by = {(r["variant"], r["explorer"]): r for r in table if r["model"] == LOST}
    # two threads, a load and a store each, all on one word: 4 traces
    racy = by["racy", "odpor"]
    assert (racy["verdict"], racy["search"], racy["traces"]) == ("violated", "exhaustive", "4")
    assert racy["executions/traces"] == "1.00"
    assert by["racy", "naive"]["executions/traces"] == "1.50"  # 6 interleavings
    assert by["atomic", "dpor"]["verdict"] == "holds"
    # only bfs stores states
    assert by["racy", "bfs"]["states"] != "-" and by["racy", "dpor"]["states"] == "-"
    assert "- odpor: exhaustive in 3 of 3 checks, cut in 0;" in text


def test_scaling_stops_each_explorer_after_its_first_cut_run() -> None:
    spec = bench.parse_scale(f"{LOST}:threads=2..8")
    model, variant = bench.validate_scale(spec, "racy")
    rows = bench.scale_rows(model, variant, spec, cap=0.2)
    text = bench.scale_section(spec, variant, rows, 0.2, ["Measured by a test."])
    assert text.startswith(f"## Scaling: {LOST}\n")
    table = _rows(text, SCALE_HEADERS)
    for name in bench.EXHAUSTIVE:
        mine = [r for r in table if r["explorer"] == name]
        # 8 racy threads have 16!/2^8 interleavings: every explorer is cut
        assert [int(r["threads"]) for r in mine] == list(range(2, 2 + len(mine)))
        assert [r["exhaustive"] for r in mine] == ["yes"] * (len(mine) - 1) + ["no (cut)"]
        assert mine[-1]["verdict"].endswith("(cut)")
        assert f"{name} at threads={mine[-1]['threads']}" in text
    two = {r["explorer"]: r for r in table if r["threads"] == "2"}
    assert two["odpor"]["traces"] == "4" and two["dpor"]["executions/traces"] == "1.00"


def test_parse_scale_takes_fixed_params_and_rejects_bad_specs() -> None:
    spec = bench.parse_scale("pkg.model:openers=2..8,switches=0")
    assert (spec.target, spec.param, spec.first, spec.last) == ("pkg.model", "openers", 2, 8)
    assert dict(spec.fixed) == {"switches": 0}
    assert spec.text() == "pkg.model:openers=2..8,switches=0"
    for bad in ("foo", "m:", "m:n=1", "m:n=a..3", "m:n=3..2", "m:n=1..2,k=1..2", "m:n=1..2,x"):
        with pytest.raises(bench.UsageError, match="--scale"):
            bench.parse_scale(bad)


def test_merge_replaces_its_sections_and_keeps_the_others() -> None:
    existing = (
        "# ctxcheck benchmarks\n\nMeasured by someone.\n\n"
        "## Theirs\n\nkeep me\n\n"
        "## Scaling: m\n\nold table\n\n"
        "## Also theirs\n\n```\n## not a heading\n```\n"
    )
    generated = "## Scaling: m\n\nnew table\n\n## Explorers on the x models\n\nrows\n"
    merged = bench.merge_sections(existing, generated)
    assert merged == (
        "# ctxcheck benchmarks\n\nMeasured by someone.\n\n"
        "## Theirs\n\nkeep me\n\n"
        "## Scaling: m\n\nnew table\n\n"
        "## Also theirs\n\n```\n## not a heading\n```\n\n"
        "## Explorers on the x models\n\nrows\n"
    )
    assert bench.merge_sections(merged, generated) == merged


def test_bench_writes_its_sections_into_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "MODEL_MIN_TIME", 0.0)
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# ctxcheck benchmarks\n\n## Differential run\n\nkeep me\n")
    status = bench.main(
        models="examples", cap=2.0, scale=f"{LOST}:threads=2..3", scale_cap=2.0,
        scale_variant="atomic", output=str(out),
    )  # fmt: skip
    assert status == 0
    text = out.read_text()
    assert "## Differential run\n\nkeep me\n" in text
    assert text.index("## Differential run") < text.index("## Explorers on the examples models")
    assert text.index("## Explorers on the examples models") < text.index(f"## Scaling: {LOST}")
    command = (
        f"`ctxcheck bench --models examples --cap 2 --scale {LOST}:threads=2..3 "
        f"--scale-cap 2 --scale-variant atomic -o {out}`"
    )
    assert text.count(command) == 2
    assert "The machine was shared" in text
    assert "Variant `atomic`, threads = 2..3" in text
    assert len(_rows(text, SCALE_HEADERS)) == 2 * len(bench.EXHAUSTIVE)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "foo"], "--scale 'foo': expected TARGET:PARAM=A..B"),
        (["--scale", f"{LOST}:threads=0..3"], "threads=0 is out of range"),
        (["--scale", f"{LOST}:nope=1..2"], "has no parameter 'nope'"),
        (["--scale", "no.such.model:n=1..2"], "unknown model"),
        (["--scale", f"{LOST}:threads=2..3", "--scale-variant", "nope"], "no variant 'nope'"),
        (["--models", "no_such_prefix"], "--models 'no_such_prefix': no model"),
        (["--models", "examples", "--cap", "0"], "must be positive"),
        (["--naive", ":threads=2"], "--naive ':threads=2': no model named"),
        (["--naive", f"{LOST}:threads"], "'threads' is not K=N"),
        (["--naive", f"{LOST}:nope=2"], "has no parameter 'nope'"),
        (["--naive", LOST, "--naive-cap", "-1"], "must be positive"),
        (["--split", ":threads=2"], "--split ':threads=2': no model named"),
        (["--split", LOST, "--split-jobs", "2,0"], "job counts of 1 or more"),
        (["--spin", "--spin-openers", "2..9"], "--spin-openers '2..9': expected A..B"),
        (["--spin", "--spin-memlim", "999999"], "--spin-memlim 999999: give 1.."),
        (["--spin", "--spin-cap", "0"], "must be positive"),
    ],
)
def test_bad_bench_options_exit_2(cli: Cli, args: list[str], message: str) -> None:
    proc = cli("bench", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stdout == ""


NAIVE_HEADERS = (
    "| model | variant | params | states | transitions | naive would run | walk: violated "
    "| walk s | dpor executions | dpor: violated | dpor s | agree |"
)


def test_naive_table_counts_what_naive_runs_and_compares_verdicts(cli: Cli) -> None:
    proc = cli("bench", "--naive", f"{LOST}:threads=2")
    assert proc.returncode == 0, proc.stderr
    rows = {r["variant"]: r for r in _rows(proc.stdout, NAIVE_HEADERS)}
    model = next(m for m in list_models("examples") if m.name == LOST)
    assert set(rows) == {v.name for v in model.variants}
    for variant, row in rows.items():
        naive = check(LOST, variant=variant, explorer="naive", threads=2)
        assert row["naive would run"] == f"{naive.stats.executions:,}"
        assert row["agree"] == "yes"
        assert row["walk: violated"] == (", ".join(sorted(naive.violated())) or "holds")
    assert "--naive-cap 900" in proc.stdout


SPLIT_HEADERS = (
    "| model | params | jobs | verdict | violated | exhaustive | executions | handed out "
    "| hand-offs | reruns | seconds | speed-up | steps | cpu s | µs cpu per step | job median s "
    "| job max s | coordinator cpu s | ms cpu per job |"
)


def test_split_table_times_one_process_against_each_split(cli: Cli) -> None:
    proc = cli("bench", "--split", f"{LOST}:threads=3", "--split-jobs", "1,2")
    assert proc.returncode == 0, proc.stderr
    rows = _rows(proc.stdout, SPLIT_HEADERS)
    assert [r["jobs"] for r in rows] == ["one process", "1", "2"]
    one = check(LOST, threads=3)
    for row in rows:
        assert row["verdict"] == one.verdict
        assert row["violated"] == (", ".join(sorted(one.violated())) or "-")
        assert row["exhaustive"] == "yes"
    assert rows[0]["speed-up"] == "1.00" and rows[0]["handed out"] == "0"
    assert rows[0]["hand-offs"] == "0"
    assert "--split-jobs 1,2" in proc.stdout
    for row in rows:  # every process's time over the steps (the next test: whose time)
        assert int(row["steps"].replace(",", "")) > 0 and float(row["µs cpu per step"]) > 0


def test_a_split_rows_processor_time_counts_its_workers() -> None:
    from ctxcheck.bench.specs import parse_naive
    from ctxcheck.bench.split import measure_one

    spec = parse_naive(f"{LOST}:threads=3", "--split")
    one, two = measure_one(spec, 0), measure_one(spec, 2)
    assert one.cpu == one.coordinator_cpu  # one process: nobody else's time
    assert two.cpu > two.coordinator_cpu  # the workers ran the jobs: their time is the steps'
    assert one.steps == two.steps > 0  # no invariants: the split runs one process's search


#: a model whose final property raises KeyboardInterrupt, as Ctrl-C during a check does
CTRL_C_MODEL = """
import itertools
from ctxcheck import Cell, Model, Param, Property, Struct, field

class G(Struct):
    x: Cell = field(0)

def writer(k, g):
    yield k.store(g.x, 1)

def setup(m, cfg):
    g = m.new(G)
    for i in range(cfg["threads"]):
        m.spawn(f"T{i}", writer, g)
    return g

checks = itertools.count()

def ctrl_c(m, g):
    if next(checks) >= 0:
        raise KeyboardInterrupt
    return None

MODEL = Model("ctrl_c", setup, params=(Param("threads", 3, 1, 4),),
              properties=(Property("ctrl_c", "", ctrl_c, final=True),))
"""


def test_ctrl_c_stops_the_whole_bench_not_just_one_measurement(cli: Cli, tmp_path: Path) -> None:
    """An explorer ends its search on Ctrl-C; the bench must not go on to the next one."""
    model = tmp_path / "ctrl_c.py"
    model.write_text(CTRL_C_MODEL)
    out = tmp_path / "BENCHMARKS.md"
    proc = cli("bench", "--scale", f"{model}:threads=2..4", "--scale-cap", "30", "-o", str(out))
    assert proc.returncode == 3, proc.stderr
    assert "ctxcheck: interrupted" in proc.stderr
    assert "ctxcheck bench:" not in proc.stderr  # not one more measurement ran
    assert not out.exists()
