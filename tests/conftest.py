"""Shared fixtures: build a small model inline and run it under an explorer.

Engine tests write their models right in the test (a setup function and a
few generator threads) instead of going through ``models/``, so that each
test shows the whole program it checks.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ctxcheck
from ctxcheck import Machine, Model, Property, Result

#: the checkout: the CLI runs from here, where ``models/`` is
REPO = Path(__file__).resolve().parent.parent

Setup = Callable[[Machine], Any]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]
Observe = Callable[[Machine, Any], Any]


def make_model(
    setup: Setup, *properties: Property, max_steps: int = 200, name: str = "inline"
) -> Model:
    """A model from a setup taking just the machine (no params, one variant)."""
    return Model(
        name=name, setup=lambda m, cfg: setup(m), properties=properties, max_steps=max_steps
    )


@pytest.fixture
def inline_model() -> Callable[..., Model]:
    """:func:`make_model`, for tests that drive the runtime themselves."""
    return make_model


@pytest.fixture(params=["naive", "dpor"])
def explorer(request: pytest.FixtureRequest) -> str:
    """Every engine test runs under both exhaustive explorers."""
    name: str = request.param
    return name


@pytest.fixture
def run(explorer: str) -> Callable[..., Result]:
    """``run(setup, *properties, **check_kwargs)``: check an inline model."""

    def _run(setup: Setup, *properties: Property, max_steps: int = 200, **kw: Any) -> Result:
        model = make_model(setup, *properties, max_steps=max_steps)
        return ctxcheck.check(model, explorer=explorer, **kw)

    return _run


@pytest.fixture
def outcomes(explorer: str) -> Callable[[Setup, Observe], set[Any]]:
    """``outcomes(setup, observe)``: the set of final observations over all runs.

    ``observe(machine, state)`` is evaluated at the end of every execution
    (litmus-test style). A violation found on the way fails the test, with
    the counterexample, so a test never silently loses executions.
    """

    def _outcomes(setup: Setup, observe: Observe) -> set[Any]:
        seen: set[Any] = set()

        def record(m: Machine, state: Any) -> None:
            seen.add(observe(m, state))
            return None

        model = make_model(setup, Property("observe", "records outcomes", record, final=True))
        ctxcheck.check(model, explorer=explorer).assert_holds()
        return seen

    return _outcomes


@pytest.fixture
def cli() -> Cli:
    """``cli(*args, cwd=REPO)``: run ``python -m ctxcheck.cli`` in a subprocess."""

    def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ctxcheck.cli", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,  # a hang guard, not a speed assertion
            check=False,
        )

    return _cli


@pytest.fixture(scope="session")
def seqcount_buggy() -> Result:
    """The torn read of ``examples.seqcount [buggy]`` at its defaults, found once.

    Its search, minimisation and deciding-step walk take about a second;
    the model tests, the docs test and the renderer tests all read this one
    result (none of them changes it) instead of each finding it again.
    """
    return ctxcheck.check("examples.seqcount", variant="buggy", stop_on_first=True)
