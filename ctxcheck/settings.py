"""Immutable check settings with named profiles, the way hypothesis does it.

A :class:`Settings` value says how the pytest plugin runs each check: which
explorer, which budgets, which seed, and where failing checks leave their
artifacts. It is frozen, so a test cannot change what another test sees;
:meth:`Settings.replace` makes a changed copy and validates it.

Profiles give a whole set of settings a name. Two exist: ``default`` (DPOR,
no budget: a check is a proof within the model's own bounds) and ``ci``
(the same search, plus a fixed seed and an artifacts directory so that a CI
job can upload the traces of whatever failed). A project adds its own in a
``conftest.py``::

    from ctxcheck import settings
    settings.register_profile("quick", parent="default", max_executions=2000)

and picks one with ``pytest --ctxcheck-profile quick`` (or the environment
variable ``CTXCHECK_PROFILE``). Command-line ``--ctxcheck-*`` options then
override single fields of the chosen profile.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ctxcheck.errors import UsageError
from ctxcheck.options import Options

#: the environment variable that picks a profile when no option does
PROFILE_ENV = "CTXCHECK_PROFILE"


@dataclass(frozen=True)
class Settings:
    """How checks run: explorer, budgets, seed, artifacts directory."""

    explorer: str = "dpor"
    max_executions: int | None = None
    timeout: float | None = None
    seed: int | None = None
    artifacts: str | None = None

    def __post_init__(self) -> None:
        _validate(self)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed; unknown fields are a :class:`UsageError`."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise UsageError(
                f"unknown ctxcheck setting {unknown[0]!r}; the settings are: "
                f"{', '.join(sorted(known))}"
            )
        return dataclasses.replace(self, **changes)

    def check_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`ctxcheck.check` these settings fix."""
        return {
            "explorer": self.explorer,
            "max_executions": self.max_executions,
            "timeout": self.timeout,
            "seed": self.seed,
        }

    def options(self, **overrides: Any) -> Options:
        """The :class:`~ctxcheck.options.Options` of a check, with keyword overrides.

        ``overrides`` are keyword arguments of :func:`ctxcheck.check` that
        say how to search (``explorer``, ``max_executions``, ``seed``, ...).
        """
        given = {**self.check_options(), **overrides}
        return Options.build(given.pop("explorer"), **given)


def _validate(s: Settings) -> None:
    if not isinstance(s.explorer, str) or not s.explorer:
        raise UsageError(f"setting explorer={s.explorer!r}: give an explorer name such as 'dpor'")
    _positive("max_executions", s.max_executions, int)
    _positive("timeout", s.timeout, (int, float))
    if s.seed is not None and (not isinstance(s.seed, int) or isinstance(s.seed, bool)):
        raise UsageError(f"setting seed={s.seed!r}: the seed must be an integer")
    if s.artifacts is not None and not isinstance(s.artifacts, str):
        raise UsageError(f"setting artifacts={s.artifacts!r}: give a directory path")


def _positive(name: str, value: object, kind: type[int] | tuple[type[int], type[float]]) -> None:
    if value is None:
        return
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not isinstance(value, kind) or not math.isfinite(number) or number <= 0:
        raise UsageError(
            f"setting {name}={value!r}: it must be a finite, positive number (or None for no limit)"
        )


_PROFILES: dict[str, Settings] = {
    "default": Settings(),
    "ci": Settings(seed=0, artifacts="ctxcheck-artifacts"),
}


def register_profile(name: str, parent: str = "default", **changes: Any) -> Settings:
    """Define (or redefine) profile ``name`` as ``parent`` with ``changes``."""
    if not name or not isinstance(name, str):
        raise UsageError(f"profile name {name!r}: give a non-empty string")
    profile = get_profile(parent).replace(**changes)
    _PROFILES[name] = profile
    return profile


def get_profile(name: str) -> Settings:
    """The settings of a profile, or a :class:`UsageError` naming the known ones."""
    try:
        return _PROFILES[name]
    except KeyError:
        raise UsageError(
            f"unknown ctxcheck profile {name!r}; known profiles: {', '.join(sorted(_PROFILES))} "
            f"(register one with ctxcheck.settings.register_profile)"
        ) from None


def profiles() -> list[str]:
    """Names of the registered profiles."""
    return sorted(_PROFILES)
