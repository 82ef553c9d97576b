"""The tutorial's tests (docs/writing-a-model.md): the bug found, the fixes proved."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from llist import MODEL

from ctxcheck.pytest_plugin import Checker
from ctxcheck.strategies import ScheduleRun, schedules


def test_concurrent_del_first_is_a_use_after_free(ctxcheck: Checker) -> None:
    result = ctxcheck.check(MODEL, variant="del_first")
    bug = result.assert_violates("memory_safety")
    assert "use after free: load A.next" in bug.message
    assert bug.steps == 6 and bug.preemptions == 1


@pytest.mark.parametrize("variant", ["locked", "del_all"])
def test_the_fixes_hold(ctxcheck: Checker, variant: str) -> None:
    ctxcheck.check(MODEL, variant=variant).assert_holds()


@pytest.mark.ctxcheck_budget(max_executions=5000)
def test_del_all_holds_with_two_producers(ctxcheck: Checker) -> None:
    ctxcheck.check(MODEL, variant="del_all", producers=2).assert_holds()


@settings(max_examples=50, deadline=None)
@given(schedules(MODEL, variant="del_all", producers=2, consumers=3))
def test_del_all_on_random_schedules(run: ScheduleRun) -> None:
    run.assert_holds()
