"""``ctxcheck prove``: check every variant, judge it, write the proof reports.

Writes into the output directory ``proof.txt`` (mail reply), ``proof.md``,
``index.html``, and per counterexample its trace JSON, lane diagram (SVG)
and graph (PNG) under ``traces/`` (through :mod:`ctxcheck.artifacts`, the
one writer of counterexample files). ``proof.txt`` and ``proof.md`` are
byte-identical between runs; the wall-clock times go to ``timings.txt``.
Exit status 0 when every expectation of every model is met, 1 otherwise.

The output directory is checked before any model runs: it must be new,
empty, or an earlier proof (only the entries in :data:`OWNED`), so a proof
never overwrites anybody's files; within ``traces/`` a counterexample the
proof no longer has is removed, since only a proof writes there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from ctxcheck.artifacts import Plan, write_counterexample
from ctxcheck.errors import UsageError
from ctxcheck.loader import list_models, load_model
from ctxcheck.model import Model
from ctxcheck.output import check_output_dir, make_dir, write_output
from ctxcheck.report.collect import ModelReport, VariantReport, collect_model
from ctxcheck.report.html import write_html
from ctxcheck.report.markdown import write_markdown
from ctxcheck.report.text import write_text

#: what a proof writes into its directory: an earlier proof holds nothing else
OWNED = ("proof.txt", "proof.md", "index.html", "timings.txt", "traces")


def resolve(targets: Sequence[str], paths: Sequence[str] = ()) -> list[Model]:
    """Models named by the targets: a model name, a file, or a package prefix.

    An empty target is refused: as a prefix it would name every model.
    """
    models: list[Model] = []
    for target in targets:
        if not target.strip():
            raise UsageError("prove: an empty target names no model; give a model or a prefix")
        under = [] if target.endswith(".py") else list_models(target, paths)
        found = under or [load_model(target, paths)]
        models += [m for m in found if m.name not in {x.name for x in models}]
    return models


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def trace_folder(model: Model, models: list[Model]) -> Path:
    """``traces/<name>``: the last part of the model's name, unless another model shares it.

    Short folders keep each replay command of ``proof.txt`` within 80 columns.
    """
    leaf = model.name.rsplit(".", 1)[-1]
    clash = sum(1 for m in models if m.name.rsplit(".", 1)[-1] == leaf) > 1
    return Path("traces") / _safe(model.name if clash else leaf)


def write_artifacts(
    mr: ModelReport, outdir: Path, svgs: dict[str, str], folder: Path | None = None
) -> list[str]:
    """Trace JSON, lane SVG and graph PNG of every counterexample; returns notes."""
    notes: list[str] = []
    folder = folder or Path("traces") / _safe(mr.model.name)
    make_dir(outdir / folder, "the traces directory")
    # a counterexample this proof no longer has must not outlive it
    for old in (outdir / folder).iterdir():
        if old.is_file() and old.suffix in (".json", ".svg", ".png"):
            old.unlink()
    for vr in mr.variants:
        for v in vr.result.violations:
            stem = folder / f"{_safe(vr.variant)}.{_safe(v.property)}"
            plan = Plan.at(outdir / f"{stem}.json", ("lanes", "graph"), outdir / stem)
            written = write_counterexample(vr.result, v, mr.model, plan, force=True)
            notes += written.notes
            vr.artifacts[v.property] = {
                kind: str(path.relative_to(outdir)) for kind, path in written.paths.items()
            }
            if written.lanes_svg is not None:
                svgs[vr.artifacts[v.property]["lanes"]] = written.lanes_svg
    return notes


@contextmanager
def _progress(total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar per model on a terminal; plain lines otherwise."""
    if not sys.stderr.isatty():
        yield lambda label: print(f"prove: {label}", file=sys.stderr)
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("prove", total=total)

        def step(label: str) -> None:
            bar.update(task, advance=1, description=label)

        yield step


def _announce(step: Callable[[str], None], model: str) -> Callable[[str], None]:
    def announce(variant: str) -> None:
        step(f"{model} [{variant}]")

    return announce


def _cluster(cluster: str | None, jobs: int) -> AbstractContextManager[str | None]:
    """The scheduler address every check of the proof uses (``local``: started once)."""
    if cluster is None:
        return nullcontext(None)
    from ctxcheck.parallel import cluster_workers
    from ctxcheck.parallel.cluster import shared_cluster

    return shared_cluster(cluster, cluster_workers(jobs))


def run(
    targets: Sequence[str],
    outdir: str | Path,
    timeout: float | None = None,
    paths: Sequence[str] = (),
    jobs: int = 1,
    cluster: str | None = None,
    memory_model: str = "sc",
) -> tuple[list[ModelReport], list[str], int]:
    """Check, judge and write everything; returns reports, notes and status.

    ``jobs`` and ``cluster`` split each check (a ``local`` cluster is
    started once for all of them). ``memory_model="lkmm"`` checks every
    variant under the Linux kernel memory model (the models' own lkmm
    questions are in every report, whatever this is).
    """
    import time

    out = check_output_dir(str(outdir), "prove -o", OWNED)
    models = resolve(targets, paths)
    make_dir(out, "the proof directory")
    reports: list[ModelReport] = []
    svgs: dict[str, str] = {}
    notes: list[str] = []
    timings: list[str] = []
    total = sum(len(m.variants) + len(m.lkmm_expectations) for m in models)
    with _progress(total) as step, _cluster(cluster, jobs) as address:
        for m in models:
            start = time.monotonic()
            mr = collect_model(m, _announce(step, m.name), timeout, jobs, address, memory_model)
            timings += [
                f"{m.name} [{vr.variant}]: {vr.result.stats.seconds:.2f}s, "
                f"{vr.result.stats.executions} executions"
                for vr in [*mr.variants, *mr.lkmm]
            ]
            timings.append(f"{m.name}: {time.monotonic() - start:.2f}s in all")
            notes += write_artifacts(mr, out, svgs, trace_folder(m, models))
            reports.append(mr)
    write_output(out / "proof.txt", write_text(reports), "the proof")
    write_output(out / "proof.md", write_markdown(reports), "the proof")
    write_output(out / "index.html", write_html(reports, svgs), "the proof")
    write_output(
        out / "timings.txt",
        "Wall-clock times of the last `ctxcheck prove` (these vary between runs;\n"
        "proof.txt and proof.md do not).\n\n" + "\n".join(timings) + "\n",
        "the timings",
    )
    status = 0 if all(r.ok for r in reports) else 1
    return reports, notes, status


def _failures(reports: list[ModelReport]) -> list[str]:
    out: list[str] = []
    for mr in reports:
        out += [f"{mr.model.name} [{vr.variant}]: {vr.judgement.text}"
                for vr in mr.variants if not vr.judgement.met]  # fmt: skip
        out += [f"{mr.model.name} [{row.variant}]: mutant {row.status} ({row.reason})"
                for row in mr.mutants if row.status not in ("CAUGHT", "EQUIVALENT")]  # fmt: skip
    return out


def main(
    targets: Sequence[str],
    outdir: str,
    timeout: float | None = None,
    paths: Sequence[str] = (),
    jobs: int = 1,
    cluster: str | None = None,
    memory_model: str = "sc",
) -> int:
    """The CLI command: run, print a summary line and any unmet expectation."""
    reports, notes, status = run(targets, outdir, timeout, paths, jobs, cluster, memory_model)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    variants: list[VariantReport] = [vr for mr in reports for vr in mr.variants]
    violated = sum(1 for vr in variants if vr.result.violations)
    print(
        f"prove: {len(reports)} models, {len(variants)} variants ({violated} with "
        f"counterexamples); expectations {'all met' if status == 0 else 'NOT met'}; "
        f"reports in {outdir}/ (proof.txt, proof.md, index.html)"
    )
    for line in _failures(reports):
        print(f"  FAILED {line}")
    return status
