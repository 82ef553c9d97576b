"""The pytest plugin (registered through the ``pytest11`` entry point).

It adds the ``--ctxcheck-*`` options and the ``ctxcheck`` fixture: the
:func:`ctxcheck.check` API bound to the session's options.
"""

from __future__ import annotations

from typing import Any

import pytest

from ctxcheck.result import Result


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ctxcheck", "ctxcheck model checking")
    group.addoption("--ctxcheck-explorer", default="dpor", help="explorer for ctxcheck checks")
    group.addoption("--ctxcheck-max-executions", type=int, default=None,
                    help="execution budget of each check")  # fmt: skip
    group.addoption("--ctxcheck-timeout", type=float, default=None,
                    help="time budget (seconds) of each check")  # fmt: skip
    group.addoption("--ctxcheck-seed", type=int, default=None, help="seed for random explorers")


class Checker:
    """The fixture's object: ``ctxcheck.check`` with the session's defaults."""

    def __init__(self, config: pytest.Config) -> None:
        self._defaults: dict[str, Any] = {
            "explorer": config.getoption("ctxcheck_explorer"),
            "max_executions": config.getoption("ctxcheck_max_executions"),
            "timeout": config.getoption("ctxcheck_timeout"),
            "seed": config.getoption("ctxcheck_seed"),
        }

    def check(self, target: Any, variant: str | None = None, **kwargs: Any) -> Result:
        """Check a model with the session's options unless given here."""
        from ctxcheck.api import check

        options = {**self._defaults, **kwargs}
        return check(target, variant=variant, **options)


@pytest.fixture
def ctxcheck(request: pytest.FixtureRequest) -> Checker:
    """``ctxcheck.check`` bound to the session's ``--ctxcheck-*`` options."""
    return Checker(request.config)
