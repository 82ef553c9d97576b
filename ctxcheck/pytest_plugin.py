"""The pytest plugin (registered through the ``pytest11`` entry point).

It makes a model check an ordinary test::

    def test_stack(ctxcheck):
        ctxcheck.check("examples.lost_update", variant="atomic").assert_holds()

What it adds, all in one ``--ctxcheck-*`` option group:

* the ``ctxcheck`` fixture: :func:`ctxcheck.check` bound to the session's
  settings (a :mod:`ctxcheck.settings` profile, then the command-line
  options, then the test's ``ctxcheck_budget`` marker, then the keyword
  arguments of the call itself, each overriding the one before);
* the ``ctxcheck_budget(max_executions=..., timeout=...)`` marker;
* ``--ctxcheck-artifacts DIR``: a failed assertion on a result writes each
  counterexample's trace JSON, text trace and lane diagram there and names
  the files in the failure message;
* one line in the terminal summary: models checked, executions explored,
  inconclusive and violated checks.

A failed ``assert_holds()`` shows the minimal counterexample as the
annotated text trace, with the ctxcheck frames hidden from the traceback.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ctxcheck.errors import CtxcheckError
from ctxcheck.model import Model
from ctxcheck.result import CheckFailed, Result, Violation
from ctxcheck.settings import PROFILE_ENV, Settings, get_profile

MARKER = "ctxcheck_budget"
#: keyword arguments of ``ctxcheck.check`` that say how to search, not model parameters
_OPTION_KEYS = frozenset({
    "explorer", "max_executions", "timeout", "seed", "max_steps", "max_preemptions",
    "stop_on_first", "progress",
})  # fmt: skip
_MARKER_KEYS = ("max_executions", "timeout")


@dataclass
class SessionStats:
    """What the terminal summary line reports, summed over the session."""

    checks: int = 0
    models: set[str] = field(default_factory=set)
    executions: int = 0
    inconclusive: int = 0
    violated: int = 0

    def record(self, result: Result) -> None:
        """Count one finished check."""
        self.checks += 1
        self.models.add(result.model)
        self.executions += result.stats.executions
        if result.verdict == "inconclusive":
            self.inconclusive += 1
        elif result.verdict == "violated":
            self.violated += 1

    def line(self) -> str:
        """The summary line."""
        return (
            f"ctxcheck: models checked: {len(self.models)} ({self.checks} checks), "
            f"executions explored: {self.executions}, inconclusive checks: "
            f"{self.inconclusive}, violated checks: {self.violated}"
        )


_SETTINGS = pytest.StashKey[Settings]()
_STATS = pytest.StashKey[SessionStats]()


# -- options -----------------------------------------------------------------
def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--ctxcheck-*`` group; unset options leave the profile's value."""
    group = parser.getgroup("ctxcheck", "ctxcheck model checking")
    group.addoption("--ctxcheck-profile", default=None, metavar="NAME",
                    help=f"settings profile (default: ${PROFILE_ENV} or 'default'; "
                         f"built in: default, ci)")  # fmt: skip
    group.addoption("--ctxcheck-explorer", default=None, metavar="NAME",
                    help="explorer of every check (default: dpor)")  # fmt: skip
    group.addoption("--ctxcheck-max-executions", type=_positive_int, default=None, metavar="N",
                    help="execution budget of each check")  # fmt: skip
    group.addoption("--ctxcheck-timeout", type=_positive_float, default=None, metavar="S",
                    help="time budget (seconds) of each check")  # fmt: skip
    group.addoption("--ctxcheck-seed", type=int, default=None, metavar="N",
                    help="seed of the random explorers")  # fmt: skip
    group.addoption("--ctxcheck-artifacts", default=None, metavar="DIR",
                    help="write the trace JSON, text trace and lane diagram of every "
                         "failed check into DIR")  # fmt: skip


def _session_settings(config: pytest.Config) -> Settings:
    name = config.getoption("ctxcheck_profile") or os.environ.get(PROFILE_ENV) or "default"
    base = get_profile(name)
    overrides = {
        key: config.getoption(f"ctxcheck_{key}")
        for key in ("explorer", "max_executions", "timeout", "seed", "artifacts")
    }
    settings = base.replace(**{k: v for k, v in overrides.items() if v is not None})
    from ctxcheck.explorers import get_explorer

    get_explorer(settings.explorer)
    return settings


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; resolve and validate the session's settings."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(max_executions=None, timeout=None): budget of the ctxcheck checks of this "
        f"test (overrides --ctxcheck-max-executions and --ctxcheck-timeout)",
    )
    try:
        config.stash[_SETTINGS] = _session_settings(config)
    except CtxcheckError as exc:
        raise pytest.UsageError(f"ctxcheck: {exc}") from None
    config.stash[_STATS] = SessionStats()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line with what the session's checks did, if there were any."""
    stats = config.stash.get(_STATS, None)
    if stats is not None and stats.checks:
        terminalreporter.write_line(stats.line())


# -- the fixture ---------------------------------------------------------------
def _marker_settings(settings: Settings, node: pytest.Item) -> Settings:
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return settings
    if marker.args:
        pytest.fail(f"@pytest.mark.{MARKER} takes keyword arguments only "
                    f"({', '.join(_MARKER_KEYS)})", pytrace=False)  # fmt: skip
    unknown = sorted(set(marker.kwargs) - set(_MARKER_KEYS))
    if unknown:
        pytest.fail(f"@pytest.mark.{MARKER}: unknown argument {unknown[0]!r}; it takes "
                    f"{', '.join(_MARKER_KEYS)}", pytrace=False)  # fmt: skip
    try:
        return settings.replace(**marker.kwargs)
    except CtxcheckError as exc:
        pytest.fail(f"@pytest.mark.{MARKER}: {exc}", pytrace=False)


class Checker:
    """The fixture's object: :func:`ctxcheck.check` with the test's settings.

    ``ctxcheck.check(target, variant, **kwargs)`` and ``ctxcheck(target, ...)``
    are the same call. Keyword arguments override the settings for this one
    check; the others are model parameters.
    """

    def __init__(self, settings: Settings, stats: SessionStats, test_id: str) -> None:
        self.settings = settings
        self._stats = stats
        self._test_id = test_id
        self._failures = 0

    def check(self, target: str | Model, variant: str | None = None, **kwargs: Any) -> Result:
        """Check a model with the test's settings unless given here."""
        __tracebackhide__ = True
        from ctxcheck.api import check
        from ctxcheck.loader import load_model

        model = load_model(target)
        how = {k: kwargs.pop(k) for k in list(kwargs) if k in _OPTION_KEYS}
        progress = how.pop("progress", None)
        options = self.settings.options(**how)
        result = check(model, variant=variant, progress=progress, options=options, **kwargs)
        self._stats.record(result)
        return PluginResult.wrap(result, model, self)

    __call__ = check

    def artifact_stem(self) -> str:
        """A file name stem unique to this test and failure."""
        self._failures += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self._test_id).strip("_.")
        return f"{safe[-120:]}-{self._failures}"


class PluginResult(Result):
    """A :class:`Result` whose failed assertions also write artifacts."""

    _model: Model
    _checker: Checker

    @classmethod
    def wrap(cls, result: Result, model: Model, checker: Checker) -> PluginResult:
        """The same result, bound to the test that made it."""
        values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
        wrapped = cls(**values)
        wrapped._model = model
        wrapped._checker = checker
        return wrapped

    def assert_holds(self, allow_inconclusive: bool = False) -> None:
        """As :meth:`Result.assert_holds`, naming the artifacts on failure."""
        __tracebackhide__ = True
        try:
            super().assert_holds(allow_inconclusive)
        except CheckFailed as exc:
            raise CheckFailed(self._with_artifacts(str(exc))) from None

    def assert_violates(self, prop: str) -> Violation:
        """As :meth:`Result.assert_violates`, naming the artifacts on failure."""
        __tracebackhide__ = True
        try:
            return super().assert_violates(prop)
        except CheckFailed as exc:
            raise CheckFailed(self._with_artifacts(str(exc))) from None

    def _with_artifacts(self, message: str) -> str:
        directory = self._checker.settings.artifacts
        if directory is None or not self.violations:
            return message
        notes = [write_artifacts(self, v, self._model, Path(directory),
                                 self._checker.artifact_stem())
                 for v in self.violations]  # fmt: skip
        return message + "\n\n" + "\n".join(notes)


@pytest.fixture
def ctxcheck(request: pytest.FixtureRequest) -> Checker:
    """:func:`ctxcheck.check` bound to the session's settings and the test's marker."""
    config = request.config
    settings = _marker_settings(config.stash[_SETTINGS], request.node)
    return Checker(settings, config.stash[_STATS], request.node.nodeid)


# -- artifacts -------------------------------------------------------------------
def write_artifacts(result: Result, v: Violation, model: Model, directory: Path, stem: str) -> str:
    """Write one counterexample's files (:mod:`ctxcheck.artifacts`); return the lines naming them.

    The directory is the session's ``--ctxcheck-artifacts``: files there are
    the plugin's own, so a rerun replaces them.
    """
    from ctxcheck.artifacts import Plan, write_counterexample
    from ctxcheck.loader import command_target
    from ctxcheck.output import make_dir
    from ctxcheck.render.text import replay_argv

    make_dir(directory, "the artifacts directory")
    base = directory.resolve() / f"{stem}-{v.property}"
    plan = Plan.at(Path(f"{base}.json"), ("text", "lanes"), base)
    written = write_counterexample(result, v, model, plan, force=True)
    lines = [f"ctxcheck artifacts for {v.property}:",
             f"  trace JSON: {plan.json}", f"  text trace: {plan.others['text']}"]  # fmt: skip
    if "lanes" in written.paths:
        lines.append(f"  lane diagram: {written.paths['lanes']}")
    else:
        lines.append(f"  lane diagram: not written ({'; '.join(written.notes)})")
    lines.append("  replay it: " + shlex.join(replay_argv(str(plan.json), command_target(model))))
    return "\n".join(lines)
