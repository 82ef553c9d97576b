"""The Python API and the pytest plugin, the plugin run through ``pytester``.

Each plugin test writes a small test module, runs pytest on it in-process
and looks at what a user would see: the exit status, the failure message,
the summary line and the files left in the artifacts directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis.extra.pytestplugin  # noqa: F401 - preloaded, see below
import pytest

import ctxcheck
import ctxcheck.strategies
from ctxcheck import settings as ctx_settings
from ctxcheck import tracefile
from ctxcheck.errors import TraceFileError, UsageError
from ctxcheck.replay import replay
from ctxcheck.result import CheckFailed
from ctxcheck.settings import Settings

pytest_plugins = ["pytester"]

# pytester's in-process runs drop every module they import when they end;
# importing the heavy ones (hypothesis, which its plugin loads at summary
# time, and all of ctxcheck) once out here keeps each inner run fast.

LOST_UPDATE = Path(__file__).resolve().parent.parent / "models" / "examples" / "lost_update.py"

HOLDS = """
def test_atomic(ctxcheck):
    ctxcheck.check("examples.lost_update", variant="atomic").assert_holds()
"""

VIOLATED = """
def test_racy(ctxcheck):
    ctxcheck.check("examples.lost_update", variant="racy").assert_holds()
"""

INCONCLUSIVE = """
import pytest

@pytest.mark.ctxcheck_budget(max_executions=1)
def test_cut(ctxcheck):
    ctxcheck.check("examples.lost_update", variant="locked", threads=3).assert_holds()

@pytest.mark.ctxcheck_budget(max_executions=1)
def test_cut_allowed(ctxcheck):
    result = ctxcheck.check("examples.lost_update", variant="locked", threads=3)
    assert result.verdict == "inconclusive"
    result.assert_holds(allow_inconclusive=True)
"""

#: a model object defined in the test module itself
INLINE_MODEL = """
from ctxcheck import Cell, Model, Property, Struct, Variant, field

class flag(Struct):
    word: Cell = field(0)

def writer(k, f):
    old = yield k.load(f.word)
    yield k.store(f.word, old + 1)

def setup(m, cfg):
    f = m.new(flag, name="flag")
    for i in range(2):
        m.spawn(f"W{i}", writer, f)
    return f

def both_counted(m, f):
    return None if f.word.value == 2 else f"word is {f.word.value}"

MODEL = Model(name="inline.flag", setup=setup, variants=(Variant("plain"),),
              properties=(Property("both_counted", "", both_counted, final=True),))

def test_inline(ctxcheck):
    ctxcheck.check(MODEL).assert_holds()
"""


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_model=source)
    return pytester.runpytest(*args)


# -- the Python API ------------------------------------------------------------------
def test_check_by_name_path_and_object_agree() -> None:
    by_name = ctxcheck.check("examples.lost_update", variant="racy")
    by_path = ctxcheck.check(str(LOST_UPDATE), variant="racy")
    from ctxcheck.loader import load_model

    by_object = ctxcheck.check(load_model("examples.lost_update"), variant="racy")
    for result in (by_name, by_path, by_object):
        assert result.verdict == "violated"
        assert result.model == "examples.lost_update"
        assert result.stats.executions == by_name.stats.executions
        assert result.violated() == ["no_lost_update"]


def test_result_carries_a_replayable_counterexample() -> None:
    result = ctxcheck.check("examples.lost_update", variant="racy", threads=2)
    assert result.exhaustive and result.params == {"threads": 2}
    v = result.assert_violates("no_lost_update")
    assert v.steps == len(v.schedule) == len(v.events) == 4
    assert v.preemptions == 1
    assert v.message == "counter is 1 after 2 increments"
    assert [e.op for e in v.events] == ["load", "load", "store", "store"]
    with pytest.raises(CheckFailed, match="expected a violation of 'deadlock'"):
        result.assert_violates("deadlock")


def test_assert_holds_message_is_the_text_trace() -> None:
    result = ctxcheck.check("examples.lost_update", variant="racy")
    with pytest.raises(CheckFailed) as info:
        result.assert_holds()
    text = str(info.value)
    assert "violates no_lost_update in 4 steps (1 preemption)" in text
    assert "no_lost_update: counter is 1 after 2 increments" in text
    assert "Violation(" not in text


def test_holds_and_inconclusive_results() -> None:
    holds = ctxcheck.check("examples.lost_update", variant="locked")
    assert holds.verdict == "holds" and holds.exhaustive and holds.violations == []
    holds.assert_holds()
    cut = ctxcheck.check("examples.lost_update", variant="locked", threads=3, max_executions=1)
    assert cut.verdict == "inconclusive" and not cut.exhaustive
    with pytest.raises(CheckFailed, match="allow_inconclusive=True"):
        cut.assert_holds()
    cut.assert_holds(allow_inconclusive=True)


def test_check_rejects_bad_input_clearly() -> None:
    with pytest.raises(UsageError, match="no variant 'nope'"):
        ctxcheck.check("examples.lost_update", variant="nope")
    with pytest.raises(UsageError, match="no parameter 'cpus'"):
        ctxcheck.check("examples.lost_update", cpus=2)
    with pytest.raises(UsageError, match="unknown explorer 'bogus'"):
        ctxcheck.check("examples.lost_update", explorer="bogus")


# -- settings and profiles --------------------------------------------------------------
def test_settings_are_immutable_and_validated() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.explorer = "naive"  # type: ignore[misc]
    assert s.replace(timeout=2.5).timeout == 2.5 and s.timeout is None
    with pytest.raises(UsageError, match="unknown ctxcheck setting 'budget'"):
        s.replace(budget=3)
    with pytest.raises(UsageError, match="max_executions=0"):
        Settings(max_executions=0)
    with pytest.raises(UsageError, match="seed"):
        Settings(seed=True)


def test_profiles() -> None:
    assert ctx_settings.get_profile("default") == Settings()
    ci = ctx_settings.get_profile("ci")
    assert ci.seed == 0 and ci.artifacts == "ctxcheck-artifacts" and ci.explorer == "dpor"
    quick = ctx_settings.register_profile("test-quick", parent="ci", max_executions=10)
    assert quick == ci.replace(max_executions=10)
    assert "test-quick" in ctx_settings.profiles()
    with pytest.raises(UsageError, match="unknown ctxcheck profile 'nope'"):
        ctx_settings.get_profile("nope")


# -- the plugin: exit status and messages ---------------------------------------------
def test_holding_check_passes_and_is_counted(pytester: pytest.Pytester) -> None:
    expected = ctxcheck.check("examples.lost_update", variant="atomic").stats.executions
    result = _run(pytester, HOLDS)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        f"ctxcheck: models checked: 1 (1 checks), executions explored: {expected}, "
        f"inconclusive checks: 0, violated checks: 0"
    ])  # fmt: skip


def test_violated_check_fails_with_the_text_trace(pytester: pytest.Pytester) -> None:
    result = _run(pytester, VIOLATED)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*examples.lost_update [[]racy] violates no_lost_update in 4 steps (1 preemption)",
        "*1 T0 *inc_racy*load(data.counter) = 0",
        "*2[*]T1 *inc_racy*load(data.counter) = 0",
        "*no_lost_update: counter is 1 after 2 increments",
        "*ctxcheck check examples.lost_update --variant racy*",
        "*violated checks: 1",
    ])  # fmt: skip
    out = result.stdout.str()
    assert "Violation(" not in out and "PluginResult(" not in out
    # the ctxcheck frames are hidden: the traceback stops at the test's line
    assert "ctxcheck/result.py" not in out and "pytest_plugin.py" not in out


def test_inconclusive_check_fails_unless_allowed(pytester: pytest.Pytester) -> None:
    result = _run(pytester, INCONCLUSIVE)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*inconclusive (search stopped: max_executions=1)*",
        "*raise the budget or pass allow_inconclusive=True*",
        "*inconclusive checks: 2, violated checks: 0",
    ])  # fmt: skip
    allowed = pytester.runpytest("-k", "allowed")
    assert allowed.ret == pytest.ExitCode.OK


def test_model_object_defined_in_the_test_module(pytester: pytest.Pytester) -> None:
    result = _run(pytester, INLINE_MODEL)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*inline.flag [[]plain] violates both_counted in 4 steps*"])


def test_assert_violates_message(pytester: pytest.Pytester) -> None:
    source = """
def test_wrong_expectation(ctxcheck):
    ctxcheck("examples.lost_update", variant="atomic").assert_violates("no_lost_update")
"""
    result = _run(pytester, source)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*expected a violation of 'no_lost_update', found none*"])


def test_no_summary_line_without_checks(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "def test_plain():\n    assert True\n")
    assert result.ret == pytest.ExitCode.OK
    assert "ctxcheck: models checked" not in result.stdout.str()


# -- the plugin: options, profile, marker -----------------------------------------------
OPTIONS = """
def test_options(ctxcheck):
    result = ctxcheck.check("examples.lost_update", variant="locked", threads=3)
    assert result.explorer == {explorer!r}
    assert result.bounds.max_executions == {max_executions!r}
    assert result.bounds.timeout == {timeout!r}
    assert result.knobs.get("seed") == {seed!r}
    assert result.stats.executions <= (result.bounds.max_executions or 10**9)
    assert ctxcheck.settings.artifacts == {artifacts!r}
"""


def test_every_option_reaches_the_check(pytester: pytest.Pytester) -> None:
    source = OPTIONS.format(explorer="naive", max_executions=2, timeout=30.0, seed=7,
                            artifacts="arts")  # fmt: skip
    options = ["--ctxcheck-explorer=naive", "--ctxcheck-max-executions=2", "--ctxcheck-timeout=30",
               "--ctxcheck-seed=7", "--ctxcheck-artifacts=arts"]  # fmt: skip
    result = _run(pytester, source, *options)
    result.assert_outcomes(passed=1)


def test_defaults_without_options(pytester: pytest.Pytester) -> None:
    source = OPTIONS.format(explorer="dpor", max_executions=None, timeout=None, seed=None,
                            artifacts=None)  # fmt: skip
    _run(pytester, source).assert_outcomes(passed=1)


def test_profile_option_and_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = OPTIONS.format(explorer="dpor", max_executions=None, timeout=None, seed=0,
                            artifacts="ctxcheck-artifacts")  # fmt: skip
    _run(pytester, source, "--ctxcheck-profile=ci").assert_outcomes(passed=1)
    monkeypatch.setenv("CTXCHECK_PROFILE", "ci")
    pytester.runpytest().assert_outcomes(passed=1)
    # an option overrides one field of the profile
    source = OPTIONS.format(explorer="dpor", max_executions=None, timeout=None, seed=5,
                            artifacts="ctxcheck-artifacts")  # fmt: skip
    _run(pytester, source, "--ctxcheck-seed=5").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ctxcheck-explorer=bogus"], "*unknown explorer 'bogus'*"),
        (["--ctxcheck-profile=nope"], "*unknown ctxcheck profile 'nope'*"),
        (["--ctxcheck-max-executions=0"], "*--ctxcheck-max-executions*invalid*"),
        (["--ctxcheck-timeout=-1"], "*--ctxcheck-timeout*invalid*"),
        (["--ctxcheck-seed=x"], "*--ctxcheck-seed*invalid*"),
    ],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    result = _run(pytester, HOLDS, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_options_are_in_one_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    out = result.stdout.str()
    section = out[out.index("ctxcheck model checking:") :]
    for option in ("--ctxcheck-profile", "--ctxcheck-explorer", "--ctxcheck-max-executions",
                   "--ctxcheck-timeout", "--ctxcheck-seed", "--ctxcheck-artifacts"):  # fmt: skip
        assert option in section.split("\n\n")[0]


MARKED = """
import pytest

@pytest.mark.ctxcheck_budget(max_executions=3, timeout=40)
def test_marked(ctxcheck):
    result = ctxcheck.check("examples.lost_update", variant="locked", threads=3)
    assert (result.bounds.max_executions, result.bounds.timeout) == (3, 40)
    assert result.stats.executions == 3

def test_unmarked(ctxcheck):
    result = ctxcheck.check("examples.lost_update", variant="locked", threads=3)
    assert (result.bounds.max_executions, result.bounds.timeout) == (50, None)

@pytest.mark.ctxcheck_budget(max_executions=3)
def test_call_overrides_marker(ctxcheck):
    result = ctxcheck.check("examples.lost_update", variant="atomic", max_executions=None)
    assert result.bounds.max_executions is None and result.verdict == "holds"
"""


def test_budget_marker_overrides_the_session_options(pytester: pytest.Pytester) -> None:
    result = _run(pytester, MARKED, "--ctxcheck-max-executions=50")
    result.assert_outcomes(passed=3)


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.ctxcheck_budget(max_executions=None, timeout=None)*"]
    )
    strict = _run(pytester, MARKED, "--strict-markers", "--ctxcheck-max-executions=50")
    strict.assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("ctxcheck_budget(5)", "*takes keyword arguments only*"),
        ("ctxcheck_budget(steps=5)", "*unknown argument 'steps'*"),
        ("ctxcheck_budget(timeout=0)", "*timeout=0*positive*"),
    ],
)
def test_bad_marker_is_a_clear_error(pytester: pytest.Pytester, marker: str, message: str) -> None:
    source = f"import pytest\n\n@pytest.mark.{marker}\ndef test_x(ctxcheck):\n    pass\n"
    result = _run(pytester, source)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


# -- the plugin: artifacts ------------------------------------------------------------
def _lanes_available() -> bool:
    from ctxcheck.render import formats

    try:
        formats.render(tracefile.TraceFile("-", {}), "lanes")
    except UsageError:
        return False
    except Exception:  # available, just not for an empty trace
        return True
    return True


def test_artifacts_are_written_and_named(pytester: pytest.Pytester) -> None:
    result = _run(pytester, VIOLATED, "--ctxcheck-artifacts=arts")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    arts = pytester.path / "arts"
    (json_file,) = arts.glob("*.json")
    assert json_file.name == "test_model.py_test_racy-1-no_lost_update.json"
    text_file = json_file.with_suffix(".txt")
    assert text_file.is_file()
    out = result.stdout.str()
    assert f"trace JSON: {json_file}" in out and f"text trace: {text_file}" in out
    assert f"replay it: ctxcheck replay {json_file}" in out
    # the JSON is a trace file that replays to the same violation
    trace = tracefile.load(json_file)
    assert trace.data["property"] == "no_lost_update" and trace.data["steps"] == 4
    replayed, _ = replay(trace)
    assert replayed.violated() == ["no_lost_update"]
    assert "violates no_lost_update in 4 steps" in text_file.read_text()
    assert f"ctxcheck replay {json_file}" in " ".join(text_file.read_text().split())
    if _lanes_available():
        (lanes,) = arts.glob("*.lanes.*")
        assert f"lane diagram: {lanes}" in out
    else:
        assert "lane diagram: not written (format 'lanes' is not available" in out


def test_artifacts_of_an_inline_model_replay_from_its_file(pytester: pytest.Pytester) -> None:
    result = _run(pytester, INLINE_MODEL, "--ctxcheck-artifacts=arts")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (json_file,) = (pytester.path / "arts").glob("*.json")
    data = json.loads(json_file.read_text())
    model_file = str(pytester.path / "test_model.py")
    assert data["model"] == model_file
    # a trace never loads a file by itself: the user names it, as the failure says
    assert f"--model {model_file}" in " ".join(result.stdout.str().split())
    with pytest.raises(TraceFileError, match="--model"):
        replay(tracefile.load(json_file))
    replayed, _ = replay(tracefile.load(json_file), model_file)
    assert replayed.violated() == ["both_counted"]


def test_no_artifacts_for_passing_checks(pytester: pytest.Pytester) -> None:
    expected = """
def test_expected_violation(ctxcheck):
    ctxcheck.check("examples.lost_update", variant="racy").assert_violates("no_lost_update")
"""
    source = HOLDS + expected
    result = _run(pytester, source, "--ctxcheck-artifacts=arts")
    result.assert_outcomes(passed=2)
    assert not (pytester.path / "arts").exists()
