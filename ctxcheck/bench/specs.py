"""Parsing and checking the benchmark's command-line specs before anything runs.

``--models PREFIX``, ``--scale TARGET:PARAM=A..B[,K=V...]`` and ``--naive
TARGET[:K=V,...]`` each name models and bounds; each is parsed and its
model loaded and its bounds validated first, so a typo is a usage error at
once (exit 2) rather than after an hour of measuring another table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ctxcheck.errors import UsageError
from ctxcheck.loader import list_models, load_model
from ctxcheck.model import Model

SCALE_SYNTAX = "TARGET:PARAM=A..B[,K=V...], e.g. pkg.model:threads=2..6,cpus=1"
NAIVE_SYNTAX = "TARGET[:K=V,...], e.g. perf_counter.double_del:cpus=1"


def select_models(prefix: str, paths: Sequence[str] = ()) -> list[Model]:
    """The models under ``prefix`` (as ``ctxcheck list PREFIX``), or a usage error."""
    models = list_models(prefix, paths)
    if not models:
        known = ", ".join(m.name for m in list_models(paths=paths)) or "none found"
        raise UsageError(f"--models {prefix!r}: no model is named so; known models: {known}")
    return models


@dataclass(frozen=True)
class ScaleSpec:
    """``--scale TARGET:PARAM=A..B[,K=V...]``: one parameter grown from A to B."""

    target: str
    param: str
    first: int
    last: int
    #: other parameters, held fixed (the rest are the model's defaults)
    fixed: Mapping[str, int]

    def text(self) -> str:
        """The spec as the command line gives it."""
        extra = "".join(f",{k}={v}" for k, v in self.fixed.items())
        return f"{self.target}:{self.param}={self.first}..{self.last}{extra}"


def _int(spec: str, key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(
            f"--scale {spec!r}: {key}={text!r} is not an integer; expected {SCALE_SYNTAX}"
        ) from None


def parse_scale(spec: str) -> ScaleSpec:
    """Parse ``--scale``; a malformed spec is a :class:`UsageError` (exit 2)."""
    target, sep, rest = spec.partition(":")
    if not sep or not target.strip() or not rest.strip():
        raise UsageError(f"--scale {spec!r}: expected {SCALE_SYNTAX}")
    ranged: tuple[str, int, int] | None = None
    fixed: dict[str, int] = {}
    for item in rest.split(","):
        key, eq, value = (x.strip() for x in item.partition("="))
        if not eq or not key or not value:
            raise UsageError(f"--scale {spec!r}: {item!r} is not K=V; expected {SCALE_SYNTAX}")
        if key in fixed or (ranged is not None and ranged[0] == key):
            raise UsageError(f"--scale {spec!r}: {key} is given twice")
        if ".." in value:
            if ranged is not None:
                raise UsageError(f"--scale {spec!r}: only one parameter can range (A..B)")
            low, _, high = value.partition("..")
            first, last = _int(spec, key, low), _int(spec, key, high)
            if first > last:
                raise UsageError(f"--scale {spec!r}: the range {value} is empty ({first} > {last})")
            ranged = (key, first, last)
        else:
            fixed[key] = _int(spec, key, value)
    if ranged is None:
        raise UsageError(f"--scale {spec!r}: no parameter ranges (PARAM=A..B); {SCALE_SYNTAX}")
    return ScaleSpec(target.strip(), ranged[0], ranged[1], ranged[2], fixed)


def validate_scale(
    spec: ScaleSpec, variant: str | None, paths: Sequence[str] = ()
) -> tuple[Model, str]:
    """Load the target and check both ends of the range before anything runs.

    An unknown model, variant or parameter, or a value outside the
    parameter's range, is then a usage error at once rather than after an
    hour of measuring the other table.
    """
    model = load_model(spec.target, paths)
    for value in (spec.first, spec.last):
        config = model.config(variant, {**spec.fixed, spec.param: value})
    return model, config.variant


@dataclass(frozen=True)
class NaiveSpec:
    """One ``--naive`` target and the parameters it is held at."""

    target: str
    params: Mapping[str, int]


def parse_naive(spec: str, option: str = "--naive") -> NaiveSpec:
    """Parse a ``--naive`` (or ``--split``) spec; a malformed one is a :class:`UsageError`."""
    target, _, rest = spec.partition(":")
    if not target.strip():
        raise UsageError(f"{option} {spec!r}: no model named; expected {NAIVE_SYNTAX}")
    params: dict[str, int] = {}
    for item in filter(None, (x.strip() for x in rest.split(","))):
        key, eq, value = (x.strip() for x in item.partition("="))
        if not eq or not key or not value.lstrip("-").isdigit():
            raise UsageError(f"{option} {spec!r}: {item!r} is not K=N; expected {NAIVE_SYNTAX}")
        params[key] = int(value)
    return NaiveSpec(target.strip(), params)


def validate_naive(spec: NaiveSpec, paths: Sequence[str] = ()) -> Model:
    """Load the target and check its parameters before anything runs."""
    model = load_model(spec.target, paths)
    model.config(None, spec.params)
    return model
