"""The perf_counter models: each (model, variant) gives its declared verdict.

Expectations live in each model's ``expectations``: a variant that holds must
hold exhaustively; a violating one must violate at least the properties it
names. Verdicts are checked under dpor at the default bounds, and naive must
agree with dpor where naive is affordable.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ctxcheck
from ctxcheck.loader import load_model

MODELS = [
    "perf_counter.ctx_create",
    "perf_counter.double_del",
    "perf_counter.install_task_ctx",
    "perf_counter.enable_task_ctx",
    "perf_counter.ctx_lifetime",
    "perf_counter.fork_inherit",
]

CASES = [(name, exp) for name in MODELS for exp in load_model(name).expectations]


@pytest.mark.parametrize(("name", "exp"), CASES, ids=[f"{n}[{e.variant}]" for n, e in CASES])
def test_dpor_verdict_at_default_bounds(name: str, exp: ctxcheck.Expectation) -> None:
    result = ctxcheck.check(name, variant=exp.variant, explorer="dpor")
    found = {v.property for v in result.violations}
    if exp.holds:
        assert result.exhaustive and not found, f"{exp.variant}: {found}"
    else:
        assert set(exp.properties) <= found, f"{exp.variant}: found {found}"


SMALL = {
    "perf_counter.install_task_ctx": {},
    "perf_counter.enable_task_ctx": {},
    "perf_counter.ctx_create": {"openers": 1, "switches": 1},
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_naive_agrees_with_dpor(name: str) -> None:
    for variant in load_model(name).variants:
        verdicts = {
            ex: ctxcheck.check(name, variant=variant.name, explorer=ex, **SMALL[name]).verdict
            for ex in ("naive", "dpor")
        }
        assert verdicts["naive"] == verdicts["dpor"], (variant.name, verdicts)


def test_list_shows_the_six_models() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", "list", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    names = {m["name"] for m in json.loads(out.stdout)["models"]}
    assert set(MODELS) <= names
