"""Run every (model, variant) of a proof and judge it against the expectations.

This is the only part of the report that checks anything; the writers
(:mod:`~ctxcheck.report.text`, :mod:`~ctxcheck.report.markdown`,
:mod:`~ctxcheck.report.html`) only lay out what it collected, so the three
reports cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctxcheck.api import check
from ctxcheck.model import Expectation, Model
from ctxcheck.result import Result, Violation

#: the explorer proofs are made with (exhaustive, one execution per trace)
PROOF_EXPLORER = "dpor"


@dataclass
class Judgement:
    """Whether a variant's result meets what the model declared for it."""

    met: bool
    text: str
    reason: str = ""


@dataclass
class VariantReport:
    """One variant's check and its judgement."""

    variant: str
    doc: str
    result: Result
    judgement: Judgement
    expectation: Expectation | None
    artifacts: dict[str, dict[str, str]] = field(default_factory=dict)

    def violation(self, prop: str) -> Violation | None:
        """The counterexample of ``prop``, if it was violated."""
        for v in self.result.violations:
            if v.property == prop:
                return v
        return None


@dataclass
class MutantRow:
    """One line of the mutation table."""

    variant: str
    status: str  # CAUGHT, EQUIVALENT, UNDECIDED, MISSED
    prop: str = ""
    steps: int = 0
    reason: str = ""


@dataclass
class FollowUp:
    """A later fix of the patched code (a variant beside pre, post and the mutants).

    Which of post's violated properties it no longer violates (``closes``),
    which it still violates (``remains``) and which only it violates (``new``).
    """

    variant: str
    closes: list[str]
    remains: list[str]
    new: list[str]
    exhaustive: bool


@dataclass
class ModelReport:
    """Everything the report says about one model."""

    model: Model
    variants: list[VariantReport]
    mutants: list[MutantRow]
    follow_ups: list[FollowUp] = field(default_factory=list)
    #: the model's questions under --memory-model lkmm (see Model.lkmm_expectations)
    lkmm: list[VariantReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every expectation met and no mutant missed."""
        return all(v.judgement.met for v in [*self.variants, *self.lkmm]) and all(
            m.status in ("CAUGHT", "EQUIVALENT") for m in self.mutants
        )

    def barrier_lines(self) -> list[str]:
        """For each (code, code without a barrier) pair: does the barrier matter?"""
        by = {vr.variant: vr.result for vr in self.lkmm}
        out = []
        for with_it, without in self.model.lkmm_pairs:
            a, b = by.get(with_it), by.get(without)
            if a is None or b is None:
                continue
            if not (a.exhaustive or a.violations) or not (b.exhaustive or b.violations):
                out.append(f"{without} against {with_it}: undecided (a check was cut)")
            elif a.verdict == b.verdict and set(a.violated()) == set(b.violated()):
                what = "holds" if a.verdict == "holds" else "violates " + ", ".join(a.violated())
                out.append(f"{without} against {with_it}: EQUIVALENT (both {what}): "
                           f"the barrier changes no verdict")  # fmt: skip
            else:
                extra = sorted(set(b.violated()) - set(a.violated()))
                out.append(f"{without} against {with_it}: the barrier is NEEDED (without "
                           f"it: {', '.join(extra) or b.verdict})")  # fmt: skip
        return out


def judge(result: Result, exp: Expectation | None) -> Judgement:
    """Compare a result with the declared expectation."""
    if exp is None:
        return Judgement(True, f"{result.verdict} (no expectation declared)")
    if exp.holds:
        if result.verdict == "holds":
            label = "holds as expected" + (" (equivalent mutant)" if exp.equivalent else "")
            return Judgement(True, label, exp.reason)
        got = ", ".join(result.violated()) or result.stopped or "not exhaustive"
        return Judgement(False, f"expected to hold, but {result.verdict}: {got}", exp.reason)
    missing = [p for p in exp.properties if p not in result.violated()]
    if missing or not result.violations:
        want = ", ".join(exp.properties) or "some property"
        got = ", ".join(result.violated()) or result.verdict
        return Judgement(False, f"expected a violation of {want}; got {got}", exp.reason)
    label = "violates as expected" + (" (accepted finding)" if exp.finding else "")
    return Judgement(True, label, exp.reason)


def mutant_row(vr: VariantReport, baseline: set[str]) -> MutantRow:
    """Caught (by which property, in how many steps), equivalent, or missed.

    A mutant is caught by a property it violates and the patched code
    (``post``) does not: a finding that ``post`` shares catches nothing.
    """
    exp = vr.expectation
    caught = [v for v in vr.result.violations if v.property not in baseline]
    if caught:
        wanted = [v for v in caught if exp is not None and v.property in exp.properties]
        v = (wanted or caught)[0]
        return MutantRow(vr.variant, "CAUGHT", v.property, v.steps)
    if exp is not None and exp.equivalent:
        if vr.result.exhaustive:
            return MutantRow(vr.variant, "EQUIVALENT", reason=exp.reason)
        return MutantRow(vr.variant, "UNDECIDED", reason=f"declared equivalent, but the search "
                         f"was cut ({vr.result.stopped}): {exp.reason}")  # fmt: skip
    shared = f" (violations shared with post: {', '.join(sorted(baseline))})" if baseline else ""
    return MutantRow(
        vr.variant, "MISSED", reason=f"{vr.result.verdict}: no property caught it{shared}"
    )


#: preemption bound of the bug hunt that follows a proof cut short
HUNT_PREEMPTIONS = 2


def _params(values: Mapping[str, int]) -> dict[str, Any]:
    """Model parameters as keyword arguments of :func:`ctxcheck.check`.

    Typed ``Any`` on purpose: spread as ``**Mapping[str, int]``, mypy would
    check the ints against ``check``'s other keywords (``progress``, ...).
    """
    return dict(values)


def hunt(model: Model, variant: str, cut: Result, timeout: float | None) -> Result:
    """A proof was cut short: look for a counterexample with few preemptions.

    The preemption-bounded explorer reaches schedules with one or two context
    switches that a depth-first proof may not get to within its budget. What
    it finds is a real violation; if it finds nothing the cut proof stands.
    """
    found = check(model, variant=variant, explorer="bounded", timeout=timeout,
                  max_preemptions=HUNT_PREEMPTIONS, **_params(cut.params))  # fmt: skip
    return found if found.violations else cut


def collect_model(
    model: Model,
    on_variant: Callable[[str], None] | None = None,
    timeout: float | None = None,
    jobs: int = 1,
    cluster: str | None = None,
    memory_model: str = "sc",
) -> ModelReport:
    """Check every variant of ``model`` at its proof parameters.

    Those are the defaults, except where the model sets ``proof_params``.
    ``timeout`` bounds each check; a check it cuts is reported inconclusive.
    ``jobs`` and ``cluster`` split each check (:mod:`ctxcheck.parallel`).
    """
    expectations = {e.variant: e for e in model.expectations}
    variants: list[VariantReport] = []
    for variant in model.variants:
        if on_variant is not None:
            on_variant(variant.name)
        result = check(
            model,
            variant=variant.name,
            explorer=PROOF_EXPLORER,
            timeout=timeout,
            jobs=jobs,
            cluster=cluster,
            memory_model=memory_model,
            **_params(model.proof_params),
        )
        if not result.exhaustive and not result.violations and memory_model == "sc":
            result = hunt(model, variant.name, result, timeout)
        exp = expectations.get(variant.name)
        variants.append(VariantReport(variant.name, variant.doc, result, judge(result, exp), exp))
    post = [set(v.result.violated()) for v in variants if v.variant == "post"]
    baseline = post[0] if post else set()
    mutants = [mutant_row(v, baseline) for v in variants if v.variant.startswith("mutant-")]
    posts = [v for v in variants if v.variant == "post"]
    later = [v for v in variants if is_follow_up(v.variant)] if posts else []
    follow_ups = [follow_up(model, v, posts[0]) for v in later]
    lkmm = [_lkmm_variant(model, exp, on_variant, timeout) for exp in model.lkmm_expectations]
    return ModelReport(model, variants, mutants, follow_ups, lkmm)


def _lkmm_variant(
    model: Model,
    exp: Expectation,
    on_variant: Callable[[str], None] | None,
    timeout: float | None,
) -> VariantReport:
    """One of the model's questions, checked under the Linux kernel memory model."""
    if on_variant is not None:
        on_variant(f"{exp.variant} (lkmm)")
    result = check(model, variant=exp.variant, explorer=PROOF_EXPLORER, timeout=timeout,
                   memory_model="lkmm", **_params(model.lkmm_params))  # fmt: skip
    doc = next((v.doc for v in model.variants if v.name == exp.variant), "")
    return VariantReport(exp.variant, doc, result, judge(result, exp), exp)


def is_follow_up(variant: str) -> bool:
    """Variants beside ``pre``, ``post`` and the ``mutant-*`` ones: later fixes of post."""
    return variant not in ("pre", "post") and not variant.startswith("mutant-")


def finding_keys(model: Model, result: Result) -> set[str]:
    """Each violation as ``property`` or, for a safety property, ``property in function``.

    The function is the one of the last step that cites followed code (the
    violating step, or the nearest before it): the same property broken at
    another place is another finding (a fix may close one and not the other).
    """
    final = {p.name for p in model.properties if p.final}
    keys = set()
    for v in result.violations:
        cited = [e for e in v.events if e.cite is not None] or v.events
        where = cited[-1].function if cited and v.property not in final else ""
        keys.add(f"{v.property} in {where}" if where else v.property)
    return keys


def follow_up(model: Model, vr: VariantReport, post: VariantReport) -> FollowUp:
    """What a later fix changes against post's violations."""
    baseline = finding_keys(model, post.result)
    found = finding_keys(model, vr.result)
    return FollowUp(
        vr.variant,
        closes=sorted(baseline - found),
        remains=sorted(baseline & found),
        new=sorted(found - baseline),
        exhaustive=vr.result.exhaustive,
    )
