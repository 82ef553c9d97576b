"""How a model declares itself: :class:`Model`, :class:`Param`, :class:`Property`.

A model module defines one module-level ``MODEL``. Only ``name`` and
``setup`` are required; the rest has defaults::

    MODEL = Model(
        name="examples.lost_update",
        setup=setup,                 # (machine, config) -> state
        params=(Param("threads", 2, 1, 6, "incrementing threads"),),
        variants=(Variant("racy", "load then store"), Variant("atomic", "atomic_inc")),
        properties=(Property("no_lost_update", "...", check_final, final=True),),
    )

``setup`` builds the initial state on a fresh :class:`~ctxcheck.machine.Machine`
(objects, CPUs, threads) and returns whatever object the properties want to
look at. A property's ``check(machine, state)`` returns None when it holds
and a message when it does not. Invariants run after every step that wrote
something; final properties run when every thread has finished.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctxcheck.errors import UsageError
from ctxcheck.machine import Machine

Check = Callable[[Machine, Any], "str | None"]
#: ``check(thread_name, result)`` of a property judged as each thread returns
ResultCheck = Callable[[str, Any], "str | None"]


@dataclass(frozen=True)
class Citation:
    """Where a step sits in the code the model follows, at the variant's revision.

    A trace names the model's own file and line for every step; a model that
    follows real code says, through :attr:`Model.cite`, which line of that
    code each step is (``kernel/perf_counter.c:1282`` at a63eaf34), so that
    a reviewer can hold the trace beside the C. ``revision`` names the
    version (a commit id); ``url`` links to the line, when there is a view.
    """

    path: str
    line: int
    revision: str = ""
    url: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        """The citation as plain JSON data (a trace event's ``cite``)."""
        return {"path": self.path, "line": self.line, "revision": self.revision, "url": self.url}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Citation:
        """Inverse of :meth:`to_json`."""
        return cls(data["path"], data["line"], data.get("revision", ""), data.get("url"))


#: ``cite(variant, model_file, model_line, function)``: the line a step follows, if known
Cite = Callable[[str, str, int, str], "Citation | None"]


@dataclass(frozen=True)
class Param:
    """An integer parameter of a model, with its default and allowed range."""

    name: str
    default: int
    min: int = 1
    max: int = 8
    doc: str = ""

    def parse(self, text: str | int) -> int:
        """Validate a user-given value; raise :class:`UsageError` if bad."""
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise UsageError(f"parameter {self.name}={text!r}: not an integer") from None
        if not self.min <= value <= self.max:
            raise UsageError(
                f"parameter {self.name}={value} is out of range: allowed {self.min}..{self.max}"
            )
        return value


@dataclass(frozen=True)
class Variant:
    """A version of the modelled code (``pre``, ``post``, a mutant)."""

    name: str
    doc: str = ""


@dataclass(frozen=True)
class Property:
    """A named safety property over the model's state.

    ``final`` properties are checked once every thread has finished;
    the others after every step that changed memory. ``quiescent``
    invariants are checked only when no thread has IRQs off, holds a
    spinlock or is inside an interrupt, i.e. where the kernel's own
    invariants are meant to hold. A property of what threads return is
    made with :meth:`returns`.
    """

    name: str
    doc: str
    check: Check
    final: bool = False
    quiescent: bool = False
    #: set by :meth:`returns`: judged on each thread's result, the step it returns
    on_return: ResultCheck | None = None

    @classmethod
    def returns(cls, name: str, doc: str, check: ResultCheck) -> Property:
        """A property of each thread's result, judged at the step where the thread returns.

        ``check(thread_name, result)`` returns a message when the result is
        wrong, else None. A result never changes once its thread has
        returned, so a wrong one is decided at that very step: the execution
        stops there, the other threads wherever they are, and the
        counterexample ends at that step. A final property cannot stop
        early: it judges the state where every thread has finished, and
        that state is not decided before it. The check sees only the
        returned value: reading shared memory from it (a cell of a struct
        the thread returned) is a model error, because that memory may
        still change.
        """
        return cls(name, doc, _judged_on_return, on_return=check)

    @property
    def kind(self) -> str:
        """``final``, ``returns`` or ``invariant`` (as ``ctxcheck list --json`` says)."""
        if self.final:
            return "final"
        return "returns" if self.on_return is not None else "invariant"


def _judged_on_return(m: Machine, state: Any) -> None:
    """The state check of a :meth:`Property.returns` property: there is none."""
    return None


#: properties every model has, raised by the primitives and the runtime
#: the memory models a check can run under (``--memory-model``)
MEMORY_MODELS = ("sc", "lkmm")

#: the explorers that run under lkmm: those held to the unreduced search there
LKMM_EXPLORERS = ("naive", "dpor", "random", "pct")

BUILTIN_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("memory_safety", "no use after free, no double free, no kfree of a non-heap object"),
    (
        "list_integrity",
        "no list_del of a deleted entry, no list_add of a linked one, no corrupted neighbours",
    ),
    ("locking", "locks released by their holder; no sleeping lock with IRQs off"),
    ("deadlock", "some thread can always move until all have finished"),
    ("termination", "every execution ends within the step bound"),
    ("bug_on", "no in-model BUG_ON fires"),
    ("warn_on", "no in-model WARN_ON fires"),
    ("data_race", "under --memory-model lkmm: no unordered conflicting accesses, one plain"),
)


@dataclass(frozen=True)
class Expectation:
    """What a variant is expected to give, and why; checked by ``ctxcheck prove``.

    * ``holds=True``: every property holds, exhaustively within the bounds.
      With ``equivalent=True`` the variant is a mutant whose removed fix is
      made redundant by another mechanism of the same code (the reason says
      which); the mutation check reports it as EQUIVALENT, not MISSED.
    * ``holds=False``: each property in ``properties`` is violated (other
      violations are reported but do not fail the expectation). With
      ``finding=True`` it is a violation of code that upstream shipped, kept
      as a finding and accepted.
    """

    variant: str
    holds: bool
    properties: tuple[str, ...] = ()
    reason: str = ""
    equivalent: bool = False
    finding: bool = False


@dataclass(frozen=True)
class Config:
    """The variant and parameter values one check runs with."""

    variant: str
    params: Mapping[str, int]
    #: "sc" (sequential consistency) or "lkmm" (the Linux kernel memory model,
    #: :mod:`ctxcheck.lkmm.engine`): what the loads of a run may return
    memory_model: str = "sc"

    def __getitem__(self, name: str) -> int:
        return self.params[name]


@dataclass(frozen=True)
class Model:
    """A checkable model: setup, parameters, variants and properties."""

    name: str
    setup: Callable[[Machine, Config], Any]
    doc: str = ""
    params: tuple[Param, ...] = ()
    variants: tuple[Variant, ...] = (Variant("default"),)
    properties: tuple[Property, ...] = ()
    #: the kernel (or other) source the model follows, for reports
    follows: str = ""
    #: per-variant expectations, for regression proofs
    expectations: tuple[Expectation, ...] = ()
    #: default step bound per execution
    max_steps: int = 500
    #: parameters ``ctxcheck prove`` checks at, where they differ from the
    #: defaults (a model whose defaults are too large for an exhaustive proof
    #: in the proof's time); every report states the bounds it used
    proof_params: Mapping[str, int] = field(default_factory=dict)
    #: questions for the Linux kernel memory model that ``ctxcheck prove``
    #: answers in the report: each variant checked under ``--memory-model
    #: lkmm`` at ``lkmm_params`` and judged by its expectation; each pair in
    #: ``lkmm_pairs`` (code, the code without one barrier) says whether the
    #: barrier changes the verdict there
    lkmm_expectations: tuple[Expectation, ...] = ()
    lkmm_params: Mapping[str, int] = field(default_factory=dict)
    lkmm_pairs: tuple[tuple[str, str], ...] = ()
    #: which line of the followed code each step is, per variant (see :class:`Citation`)
    cite: Cite | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)

    @property
    def default_variant(self) -> str:
        """The variant checked when none is named: ``post`` if there is one."""
        names = [v.name for v in self.variants]
        return "post" if "post" in names else names[0]

    def variant(self, name: str | None) -> str:
        """Resolve a variant name, or raise :class:`UsageError` listing them."""
        if name is None:
            return self.default_variant
        names = [v.name for v in self.variants]
        if name not in names:
            raise UsageError(
                f"model {self.name} has no variant {name!r}; its variants are: {', '.join(names)}"
            )
        return name

    def config(
        self, variant: str | None, params: Mapping[str, Any], memory_model: str = "sc"
    ) -> Config:
        """Validate a variant, parameter values and memory model; fill in defaults."""
        known = {p.name: p for p in self.params}
        values: dict[str, int] = {p.name: p.default for p in self.params}
        for key, raw in params.items():
            if key not in known:
                valid = ", ".join(known) or "none"
                raise UsageError(
                    f"model {self.name} has no parameter {key!r}; its parameters are: {valid}"
                )
            values[key] = known[key].parse(raw)
        if memory_model not in MEMORY_MODELS:
            raise UsageError(
                f"unknown memory model {memory_model!r}; choose one of: {', '.join(MEMORY_MODELS)}"
            )
        return Config(self.variant(variant), values, memory_model)

    def property_names(self) -> list[str]:
        """Built-in and model properties, in report order."""
        return [name for name, _ in BUILTIN_PROPERTIES] + [p.name for p in self.properties]

    def invariants(self) -> list[Property]:
        """The properties checked after every step (not only at the end), in order.

        Their positions number them for the record of what each one reads
        (:class:`ctxcheck.observe.PropertyReads`): one list, so the runtime
        and the explorers' priming agree on the numbers.
        """
        return [p for p in self.properties if not p.final and p.on_return is None]

    def result_properties(self) -> list[Property]:
        """The properties judged on each result as its thread returns (:meth:`Property.returns`)."""
        return [p for p in self.properties if p.on_return is not None]

    def describe(self) -> dict[str, Any]:
        """What ``ctxcheck list --json`` shows for this model."""
        return {
            "name": self.name,
            "doc": self.doc.strip().splitlines()[0] if self.doc.strip() else "",
            "follows": self.follows,
            "source": self.source,
            "default_variant": self.default_variant,
            "variants": [{"name": v.name, "doc": v.doc} for v in self.variants],
            "params": [
                {"name": p.name, "default": p.default, "min": p.min, "max": p.max, "doc": p.doc}
                for p in self.params
            ],
            "properties": [
                {"name": name, "doc": doc, "kind": "builtin"} for name, doc in BUILTIN_PROPERTIES
            ]
            + [
                {
                    "name": p.name,
                    "doc": p.doc,
                    "kind": p.kind,
                }
                for p in self.properties
            ],
            "max_steps": self.max_steps,
            "proof_params": dict(self.proof_params),
        }
