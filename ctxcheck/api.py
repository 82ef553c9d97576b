"""The Python API: :func:`check`. The CLI and the pytest plugin are thin layers on it."""

from __future__ import annotations

import time
from typing import Any

from ctxcheck.counterexample import build_violations
from ctxcheck.errors import UsageError
from ctxcheck.explorers import create_explorer
from ctxcheck.explorers.base import ProgressHook
from ctxcheck.loader import command_target, load_model
from ctxcheck.model import LKMM_EXPLORERS, Config, Model
from ctxcheck.options import Bounds, Options
from ctxcheck.result import Result


def check(
    target: str | Model,
    variant: str | None = None,
    explorer: str = "dpor",
    max_executions: int | None = None,
    timeout: float | None = None,
    seed: int | None = None,
    max_steps: int | None = None,
    max_preemptions: int | None = None,
    progress: ProgressHook | None = None,
    stop_on_first: bool = False,
    options: Options | None = None,
    jobs: int = 1,
    cluster: str | None = None,
    memory_model: str = "sc",
    **params: Any,
) -> Result:
    """Check a model: every schedule within the bounds, every property.

    ``target`` is a model name under ``models/`` (``perf_counter.ctx_create``),
    a path to a model file, or a :class:`~ctxcheck.model.Model` object.
    Parameters of the model are keyword arguments (``openers=2``). How the
    search runs is either the keyword arguments (explorer, bounds, seed) or
    one :class:`~ctxcheck.options.Options` value, ``options``. ``jobs``
    (0: every core) and ``cluster`` split a dpor search over processes or
    a Dask cluster (:mod:`ctxcheck.parallel`). ``memory_model="lkmm"`` runs
    the check under the Linux kernel memory model (:mod:`ctxcheck.lkmm.engine`).
    """
    model = load_model(target)
    config = model.config(variant, params, memory_model)
    if options is None:
        options = Options.build(
            explorer, max_steps=max_steps, max_executions=max_executions, timeout=timeout,
            max_preemptions=max_preemptions, stop_on_first=stop_on_first, seed=seed,
            jobs=jobs, cluster=cluster,
        )  # fmt: skip
    check_memory_model(config, options)
    bounds = options.bounds
    if bounds.max_steps is None:
        bounds = Bounds(model.max_steps, bounds.max_executions, bounds.timeout,
                        bounds.max_preemptions)  # fmt: skip
    started = time.monotonic()  # the timeout is the budget of search and minimisation
    if options.split:
        from ctxcheck.parallel import run_split, workers_for
        from ctxcheck.parallel.violations import build_violations_side_by_side

        outcome = run_split(model, config, options, bounds, progress,
                            target if isinstance(target, str) else None)  # fmt: skip
        violations = build_violations_side_by_side(
            model, config, bounds, outcome.discoveries, workers_for(options.jobs), started
        )
    else:
        outcome = create_explorer(model, config, options, bounds, progress).run()
        violations = build_violations(model, config, bounds, outcome.discoveries, started)
    return Result(
        model=model.name,
        variant=config.variant,
        params=dict(config.params),
        explorer=options.explorer,
        exhaustive=outcome.exhaustive,
        bounds=bounds,
        stats=outcome.stats,
        violations=violations,
        stopped=outcome.stopped,
        target=target if isinstance(target, str) else command_target(model),
        knobs=dict(options.knobs),
        memory_model=config.memory_model,
    )


def check_memory_model(config: Config, options: Options) -> None:
    """Under lkmm only the explorers held to the unreduced search there may run."""
    if config.memory_model == "sc":
        return
    if options.explorer not in LKMM_EXPLORERS:
        raise UsageError(
            f"explorer {options.explorer} does not run under --memory-model lkmm (its "
            f"reduction is not proven there); choose one of: {', '.join(LKMM_EXPLORERS)}"
        )
    if options.split:
        raise UsageError("--memory-model lkmm runs in one process: leave out --jobs and --cluster")
