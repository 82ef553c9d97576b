"""What a check returns: :class:`Result` and its :class:`Violation` list.

The same object backs the CLI's ``--json`` output, the pytest plugin's
assertions and the proof report, so every consumer sees the same verdict,
the same bounds and the same counterexamples.

This module is data only: it imports no renderer. The ``assert_*`` helpers
explain a failure with the counterexample's text trace through an
:data:`Explain` function that the package's front door registers
(:func:`use_explainer`, done by ``ctxcheck/__init__.py`` with
:func:`ctxcheck.render.text.render_violation`); until one is registered a
plain one-line form is used, so the data never depends on how it is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ctxcheck.explorers.base import Stats
from ctxcheck.options import Bounds
from ctxcheck.runtime import Event


@dataclass
class Violation:
    """One violated property with its minimal counterexample."""

    property: str
    message: str
    steps: int
    preemptions: int
    schedule: list[tuple[int, int]]
    events: list[Event] = field(default_factory=list)
    trace_file: str | None = None
    #: ``shortest`` when a complete search proved that no schedule violating the
    #: property has fewer steps, nor (with as many steps) fewer preemptions;
    #: ``reduced`` when its budget ran out first (then ``minimal_note`` says
    #: what was proven)
    minimal: str = "reduced"
    minimal_note: str | None = None
    #: what each thread that finished in the counterexample returned (as trace text)
    results: dict[str, str] = field(default_factory=dict)
    #: for a final property or a deadlock: the step after which every continuation
    #: violates it (None: not computed, or no step did); ``decided_note`` says which
    decided_step: int | None = None
    decided_note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract's violation object (plus the schedule and how minimal it is)."""
        return {
            "property": self.property,
            "message": self.message,
            "steps": self.steps,
            "preemptions": self.preemptions,
            "trace_file": self.trace_file,
            "schedule": encode_schedule(self.schedule),
            "minimal": self.minimal,
            "minimal_note": self.minimal_note,
            #: False when a budget (steps, or the check's --timeout) cut the minimisation
            "minimal_proven": self.minimal == "shortest",
            "results": dict(self.results),
            "decided_step": self.decided_step,
            "decided_note": self.decided_note,
        }


def encode_schedule(schedule: list[tuple[int, int]]) -> str:
    """Compact text form: ``0,0,1,2/1`` (thread, and outcome when not 0)."""
    return ",".join(str(t) if b == 0 else f"{t}/{b}" for t, b in schedule)


def decode_schedule(text: str) -> list[tuple[int, int]]:
    """Inverse of :func:`encode_schedule`; raises ValueError on bad text."""
    out: list[tuple[int, int]] = []
    for part in filter(None, text.split(",")):
        tid, _, branch = part.partition("/")
        out.append((int(tid), int(branch) if branch else 0))
    return out


class CheckFailed(AssertionError):
    """A result did not meet an ``assert_*`` expectation."""


#: how an ``assert_*`` failure shows one counterexample: (result, violation) -> text
Explain = Callable[["Result", Violation], str]


def plain_explanation(result: Result, v: Violation) -> str:
    """The counterexample in one paragraph, for when no renderer is registered."""
    return (
        f"{result.model} [{result.variant}] violates {v.property} in {v.steps} steps: "
        f"{v.message} (schedule {encode_schedule(v.schedule) or 'empty'})"
    )


_explainer: list[Explain] = [plain_explanation]


def use_explainer(explain: Explain) -> None:
    """Make ``explain`` the text of every ``assert_*`` failure from now on."""
    _explainer[0] = explain


#: what a verdict under lkmm covers, in its bounds line
LKMM_BOUNDS = "Linux kernel memory model (executions whose po|rf is acyclic)"


@dataclass
class Result:
    """Verdict, bounds, statistics and counterexamples of one check."""

    model: str
    variant: str
    params: dict[str, int]
    explorer: str
    exhaustive: bool
    bounds: Bounds
    stats: Stats
    violations: list[Violation]
    stopped: str | None = None
    #: the target as the user gave it (a model name or a file path), for commands
    target: str | None = None
    #: explorer-specific settings the check was asked for (``seed``), see ctxcheck.options
    knobs: dict[str, Any] = field(default_factory=dict)
    #: what the model was, where known: its declared name (when ``model`` is what a
    #: replay loads instead), source file and SHA-256; a trace file records them
    model_name: str = ""
    model_source: str = ""
    model_sha256: str = ""
    #: "sc" or "lkmm" (see :data:`ctxcheck.model.MEMORY_MODELS`)
    memory_model: str = "sc"

    @property
    def verdict(self) -> str:
        """``violated``, ``holds`` (exhaustive) or ``inconclusive``."""
        if self.violations:
            return "violated"
        return "holds" if self.exhaustive else "inconclusive"

    @property
    def exit_status(self) -> int:
        """The CLI's exit status for this verdict (0, 1 or 3)."""
        return {"holds": 0, "violated": 1, "inconclusive": 3}[self.verdict]

    def violated(self) -> list[str]:
        """Names of the violated properties."""
        return [v.property for v in self.violations]

    def bounds_text(self) -> str:
        """The bounds in words, for a "holds" line."""
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        parts = [f"variant {self.variant}"] + ([params] if params else [])
        if self.memory_model != "sc":
            parts.append(LKMM_BOUNDS)
        parts.append(f"max {self.bounds.max_steps} steps per execution")
        if self.bounds.max_preemptions is not None:
            parts.append(f"at most {self.bounds.max_preemptions} preemptions")
        return ", ".join(parts)

    def summary(self) -> str:
        """One line: verdict, bounds, statistics."""
        s = self.stats
        how = {
            "holds": "holds for every schedule",
            "violated": "VIOLATED: " + ", ".join(self.violated()),
            "inconclusive": f"inconclusive (search stopped: {self.stopped or 'not exhaustive'})",
        }[self.verdict]
        return (
            f"{self.model}: {how} ({self.bounds_text()}; {self.explorer}: "
            f"{s.executions} executions, {s.blocked} blocked, {s.steps} steps, "
            f"{s.seconds:.2f}s{'; ' + s.reduction if s.reduction else ''})"
        )

    def to_json(self) -> dict[str, Any]:
        """The ``check --json`` object of the CLI contract."""
        return {
            "model": self.model,
            "variant": self.variant,
            "params": dict(self.params),
            "explorer": self.explorer,
            "verdict": self.verdict,
            "exhaustive": self.exhaustive,
            "stopped": self.stopped,
            "bounds": {
                "max_steps": self.bounds.max_steps,
                "max_executions": self.bounds.max_executions,
                "timeout": self.bounds.timeout,
                "max_preemptions": self.bounds.max_preemptions,
            },
            "violations": [v.to_json() for v in self.violations],
            "stats": self.stats.to_json(),
            "knobs": dict(self.knobs),
            "memory_model": self.memory_model,
        }

    # -- assertions (pytest and scripts) --------------------------------
    def assert_holds(self, allow_inconclusive: bool = False) -> None:
        """Fail unless every property holds (exhaustively, unless allowed).

        The message is the verdict line and each counterexample as the
        registered explainer gives it (:func:`use_explainer`: the annotated
        text trace); ``__tracebackhide__`` keeps pytest's traceback at the
        test's own line.
        """
        __tracebackhide__ = True
        if self.violations:
            explain = _explainer[0]
            texts = "\n\n".join(explain(self, v) for v in self.violations)
            raise CheckFailed(f"{self.summary()}\n\n{texts}")
        if not self.exhaustive and not allow_inconclusive:
            raise CheckFailed(
                f"{self.summary()}\nThe search was cut before it was exhaustive; raise the "
                f"budget or pass allow_inconclusive=True."
            )

    def assert_violates(self, prop: str) -> Violation:
        """Fail unless ``prop`` is violated; return its counterexample."""
        __tracebackhide__ = True
        for v in self.violations:
            if v.property == prop:
                return v
        raise CheckFailed(
            f"{self.summary()}\nexpected a violation of {prop!r}, found "
            f"{', '.join(self.violated()) or 'none'}"
        )
